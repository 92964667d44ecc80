import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_WASM, isBuiltinKernel } from '../kernels/host/builtin-wasm.ts';
import { readFile } from 'node:fs/promises';
import { compileKernel } from '../kernels/host/compile.ts';
import { sha256 } from '../serve/deployment-store.ts';
import type { ClientOptions } from '../client/client.ts';
import { controlRequest } from '../client/control-client.ts';
import type { ControlReply, ControlRequest, FunctionInfo } from '../zipper/control.ts';
import { parseParams, UsageError, type Parsed } from './args.ts';
import { connectionOptions } from './connection-flags.ts';
import { explainControlFailure } from './control-failure.ts';

/** The control token the default workflow.yaml falls back on (`${GEOFLUX_CONTROL_TOKEN:-dev-control-token}`). */
export const DEV_CONTROL_TOKEN = 'dev-control-token';

const tagList = (v: unknown) => (typeof v === 'string' ? v.split(',').map((t) => t.trim()).filter(Boolean) : []);

function count(flag: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag} is a whole number ≥ 0 (got ${String(v)})`);
  return n;
}

const CONTROL_CONNECT_MS = 10_000;

/** How a control command reaches the zipper: the command's connection flags, with the control token. */
export function controlOptions(values: Parsed['values']): Omit<ClientOptions, 'name'> {
  const token = (values.token as string | undefined) ?? (process.env.GEOFLUX_CONTROL_TOKEN || DEV_CONTROL_TOKEN);
  // a serve answers its control channel at once or not at all: 10 s, not the 30 s a source waits for a zipper
  return { ...connectionOptions({ ...values, token }), connectTimeout: CONTROL_CONNECT_MS };
}

/** a reply the command goes on with; a refusal fails the command with the zipper's reason, said of `about` if given */
export function accepted(reply: ControlReply, about?: string): ControlReply & { ok: true } {
  if (!reply.ok) throw new Error(`${about ? `${about}: ` : ''}refused: ${reply.error}`);
  return reply;
}

/** One control request with the command's connection flags. */
const ask = async (values: Parsed['values'], req: ControlRequest, about?: string) =>
  accepted(await controlRequest(controlOptions(values), req).catch((e: unknown) => explainControlFailure(e, values, req)), about);

/** a built-in kernel's name is no file here: say where its .wasm is, rather than ENOENT alone */
function unreadableKernel(file: string, e: Error): string {
  if (!isBuiltinKernel(file)) return `cannot read ${file}: ${e.message}`;
  const wasm = relative(process.cwd(), fileURLToPath(BUILTIN_WASM[file]()));
  return `deploy takes a kernel's .wasm file; "${file}" is a built-in kernel, whose .wasm is ${wasm} (a workflow's functions run built-ins by name: kernel: ${file})`;
}

/** `geoflux deploy <kernel.wasm> --name … --observe …`: exits once the function runs. */
export async function deployCommand({ values, positionals }: Parsed): Promise<void> {
  const [file] = positionals;
  if (!file) throw new UsageError('name the kernel to deploy: a .wasm file');
  if (!values.name) throw new UsageError('--name: the new function\'s name');
  const observe = tagList(values.observe);
  if (!observe.length) throw new UsageError('--observe: the tags it observes, e.g. --observe matched');
  const idle = values.idle === undefined ? undefined : Number(values.idle);
  if (idle !== undefined && !(idle > 0)) throw new UsageError(`--idle is a number of seconds > 0 (got ${String(values.idle)})`);
  const wasm = new Uint8Array(await readFile(file).catch((e: Error) => Promise.reject(new UsageError(unreadableKernel(file, e)))));
  // compiled here, so that a module V8 refuses is named as the deployer's file, not as serve's stored copy of it
  await compileKernel(wasm, file).catch((e: Error) => Promise.reject(new UsageError(e.message)));
  const where = values.where === undefined ? 'edge' : String(values.where);
  if (where !== 'edge' && where !== 'cloud') throw new UsageError(`--where is edge or cloud (got ${where})`);
  const min = count('min', values.min);
  const max = count('max', values.max);
  if (idle !== undefined && min !== 0) throw new UsageError('--idle: only a function with --min 0 is scaled to zero when idle');
  // once sent, a deploy goes on on the zipper whatever happens here: a Ctrl-C says so rather than nothing
  const interrupted = () => {
    process.stderr.write(`geoflux deploy: interrupted; the zipper may still finish the deploy of "${String(values.name)}" (geoflux functions says)\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  // serve names no file (it only has its stored copy of the module): the refusal is said of the deployer's
  const reply = await ask(values, { op: 'deploy', name: String(values.name), observe, emit: tagList(values.emit), params: parseParams(values.params), min, max, wasm, hash: sha256(wasm), freshState: Boolean(values['fresh-state']), idle, where }, file);
  process.off('SIGINT', interrupted);
  process.stdout.write(reply.message + '\n');
}

/** `geoflux functions`: a table of the serve's functions. */
export async function functionsCommand({ values }: Parsed): Promise<void> {
  const { functions = [], note } = await ask(values, { op: 'functions' });
  // a deployed function's bounds beside its count: it is autoscaled between them; a cloud function runs on each worker
  const instances = (f: FunctionInfo) => (f.where === 'cloud' ? `${f.instances} worker${f.instances === 1 ? '' : 's'}` : f.min === undefined ? String(f.instances) : `${f.instances} (${f.min}-${f.max})`);
  const rows = [['NAME', 'ORIGIN', 'RUNS', 'OBSERVE', 'EMIT', 'INSTANCES'], ...functions.map((f) => [f.name, f.origin, f.hash ? f.hash.slice(0, 12) : (f.runs ?? '-'), f.observe.join(','), f.emit.join(',') || '-', instances(f)])];
  const w = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  process.stdout.write(rows.map((r) => r.map((c, j) => c.padEnd(w[j])).join('  ').trimEnd()).join('\n') + '\n');
  if (note) process.stderr.write(`geoflux functions: ${note}\n`);
}

/** `geoflux undeploy <fn>` */
export async function undeployCommand({ values, positionals }: Parsed): Promise<void> {
  const [name] = positionals;
  if (!name) throw new UsageError('name the deployed function to stop (geoflux functions lists them)');
  process.stdout.write((await ask(values, { op: 'undeploy', name })).message + '\n');
}
