import { deviceAt } from '../codecs/record-label.ts';
import { BUILTIN_KERNELS } from '../kernels/host/builtin-wasm.ts';
import type { CheckResult } from '../kernels/conformance.ts';
import { IsolatedKernel } from '../kernels/host/isolated-kernel.ts';
import { kernelSchema } from '../kernels/host/kernel-instance.ts';
import type { KernelSchema, ParamSpec } from '../kernels/host/kernel-schema.ts';
import { isKernelFile, kernelPath, loadKernelModule } from '../kernels/host/load-module.ts';
import { wasiNamed } from '../kernels/host/node-wasi.ts';
import { parseParams, unexpectedArgument, UsageError, type Parsed } from './args.ts';
import { KernelBatches } from '../sfn/kernel-batches.ts';
import { readInput } from './read-input.ts';
import { badRowsNote, printLines, runTrace } from './run-trace.ts';
import { thousands } from '../log/thousands.ts';

/** `geoflux kernel <file.wasm> [--params JSON] <trace | ->`: any kernel over a trace, its rows as JSON lines; or its schema, or the conformance suite. */
export async function kernelCommand({ values, positionals }: Parsed): Promise<void> {
  const [kernel, trace] = positionals;
  if (!kernel) throw new UsageError(`name a kernel: a .wasm file, or one of ${BUILTIN_KERNELS.join(', ')}`);
  const wasi = values.wasi === 'wasmer' ? 'wasmer' : 'node';
  if (values.describe) {
    if (trace !== undefined) throw unexpectedArgument(trace, 'kernel --describe takes only the kernel');
    // what a kernel declares does not depend on params: given, they would look checked, and are not
    if (values.params !== undefined) throw new UsageError('--describe prints what the kernel declares, whatever the params: --params goes with a run over a trace, or with --check, which checks them against what it declares');
    const { module, schema } = await namingFile(kernel, async () => {
      const { module } = await loadKernelModule(kernel);
      return { module, schema: kernelSchema(module, { wasi: await wasiNamed(wasi) }) };
    });
    const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    process.stdout.write(describe(schema, exported.has('snapshot'), exported.has('export_devices')));
    return;
  }
  const params = parseParams(values.params);
  const opts = { wasi, timeout: parseTimeout(values.timeout) } as const;
  if (values.check) {
    const fixes = trace ? (await readInput(trace)).records : undefined;
    return check(await namingFile(kernel, () => IsolatedKernel.check(kernel, params, opts, fixes)));
  }
  // in a thread of its own, so that a kernel that loops is stopped and said, not waited on forever
  const k = await namingFile(kernel, () => IsolatedKernel.create(kernel, params, { ...opts, rows: true }));
  // run as serve runs it: a batch that traps is split down to the rows that trap alone, dropped and counted
  let firstTrap = '';
  const batches = new KernelBatches<unknown>(k, {
    // only a trap costs just its row: a call that does not return, or an error status, still ends the command
    onError: (e) => {
      throw e;
    },
    onTrappedRow: (e, row) => void (firstTrap ||= `${deviceAt(row.devices[0], row.t[0])}: ${e.message}`),
  });
  try {
    let rows = 0;
    const run = await runTrace(trace, { process: (b) => batches.run(b), flush: () => batches.flush() }, (rs) => {
      rows += rs.length;
      printLines(rs);
    });
    const { name, counters, stats: s } = await k.summary();
    const counted = counters.map((c) => `${c} ${thousands(s[c])}`).join(', ');
    const traps = s.replaced ? `; ${s.replaced} traps, ${s.restores} restored from a snapshot` : '';
    run.progress.done(`${run.trace.records.length} fixes (${run.trace.format}): ${rows} rows${badRowsNote(run)}; ${name} counted ${counted}${traps}`);
    const { trappedRows, rows: fed } = batches.stats;
    if (!trappedRows) return;
    const dropped = `${trappedRows} rows dropped: the kernel trapped on them (the first: ${firstTrap})`;
    // a kernel that traps on every row is broken, not fed a few bad rows: that fails the command
    if (trappedRows === fed) throw new Error(`every row trapped the kernel: ${dropped}`);
    process.stderr.write(`${dropped}\n`);
  } finally {
    await k.close();
  }
}

/**
 * A kernel file that fails to load, named as the user typed it: the host's reasons (no imported memory, a
 * missing export, bad params) name no file, because the same host loads serve's stored copy of a deployed
 * module (.geoflux/kernels/<sha>.wasm), which a deployer never typed. Reasons that name the file already (not
 * found, not a module) are left as they are; a built-in has no file of the user's to name.
 */
async function namingFile<T>(kernel: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const err = e as Error;
    if (isKernelFile(kernel) && ![kernel, kernelPath(kernel)].some((named) => err.message.includes(named))) err.message = `${kernel}: ${err.message}`;
    throw err;
  }
}

/** --timeout: ms a kernel call may take */
function parseTimeout(text: unknown): number {
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms <= 0) throw new UsageError(`--timeout is a number of ms above 0 (got ${String(text)})`);
  return ms;
}


/** The conformance suite's results; fails the command if a check fails. */
function check(results: CheckResult[]): void {
  for (const r of results) process.stdout.write(`${r.ok ? '✓' : '✗'} ${r.check}${r.detail ? `${r.ok ? ': ' : '\n    '}${r.detail}` : ''}\n`);
  const failed = results.filter((r) => !r.ok).length;
  if (failed) throw new Error(`${failed} of ${results.length} checks failed (docs/kernel-abi.md, Conformance)`);
  process.stdout.write(`all ${results.length} checks pass\n`);
}

const range = (p: ParamSpec) =>
  [p.min !== undefined ? `${p.exclusiveMin ? '>' : '≥'} ${p.min}` : '', p.max !== undefined ? `≤ ${p.max}` : ''].filter(Boolean).join(', ');

function paramType(p: ParamSpec): string {
  if (p.type === 'enum') return p.values!.join('|');
  if (p.type === 'array') return `list of ${p.items!.type === 'enum' ? p.items!.values!.join('|') : p.items!.type}`;
  return p.type;
}

/** what the host read from a kernel: its params, rows and counters, in columns */
function describe(s: KernelSchema, stateful: boolean, movesDevices: boolean): string {
  const table = (rows: string[][]) => {
    const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
    return rows.map((r) => '  ' + r.map((c, j) => (j < r.length - 1 ? c.padEnd(w[j]) : c)).join('  ').trimEnd()).join('\n');
  };
  const params = s.params.map((p) => [
    p.name,
    paramType(p),
    p.required ? 'required' : p.default !== undefined ? `default ${JSON.stringify(p.default)}` : '',
    range(p),
    p.doc ?? '',
  ]);
  const output = s.output === 'json-lines' ? '  JSON lines' : table(s.output.map((f) => [f.name, f.type === 'enum' ? f.values!.join('|') : f.type, f.doc ?? '']));
  return [
    `${s.name}: ${s.doc ?? ''}`,
    '',
    'params:',
    params.length ? table(params) : '  (none)',
    '',
    'output rows:',
    output,
    '',
    `counters: ${s.counters.join(', ')}`,
    // that a kernel keeps no state only running it can tell (--check): a kernel may keep some and export no snapshot
    `state: ${stateful ? `snapshot and restore (a trap restores it); ${movesDevices ? 'devices move one by one (export_devices, import_devices, drop_devices)' : 'moves whole only (no export_devices)'}` : 'no snapshot and restore: any state it keeps across batches, a trap forgets (--check tells whether it keeps some)'}`,
    '',
  ].join('\n');
}
