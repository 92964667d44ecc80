import { createHash } from 'node:crypto';
import { readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pack, unpack } from '../codecs/msgpack.ts';
import { kernelPath } from '../kernels/host/load-module.ts';
import type { Logger } from '../log/logger.ts';
import { HOSTED_SOURCES } from '../source/builtin-sources.ts';
import { deviceIdsIn } from '../sfn/kernel-function.ts';
import { quoted } from '../codecs/control-characters.ts';
import { makeFolder, writeAtomically } from '../transport/state-files.ts';
import type { FunctionInstance } from '../runtime/module-thread.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { heldDevices, rebalance } from './move-devices.ts';
import { threadsOf } from './park.ts';
import type { ServedWorkflow } from './serve-workflow.ts';
import type { SavedInstance } from './run-instance.ts';
import { functionLabel, functionNameOf } from './versioned-name.ts';
import { stateFileName } from '../workflows/function-name.ts';
import { thousands } from '../log/thousands.ts';

/**
 * A kernel function's state across a restart of serve at the edge (cluster mode checkpoints its own in
 * JetStream). On a clean stop each instance, once it has flushed, exports its devices (as a replace moves
 * them) and serve writes them all to one file per function in the state folder; on the next start the file
 * is read and deleted before anything is imported (a crash after that starts empty rather than from this
 * state twice), and the devices go into the function's instances as a scale change moves them: all into
 * one, then each to its owner on the zipper's hash ring (whose ids are new at every start). A kernel whose
 * state moves whole only (hotspot) saves all of each instance's, which goes back instance for instance
 * where that is what the instances are fed (wholeStateMisfit). The file is
 * keyed by the kernel's bytes and its params (and the size and time of each file they name), so a changed
 * kernel or fence file is not fed state built against the old one: it starts empty, said once. A function
 * fed by a replay or a simulation of the workflow's own saves nothing (startsOver).
 * What kill -9 loses is all of it: docs/failure-handling.md says why nothing is written periodically.
 */

interface SavedState {
  key: string;
  /** epoch ms */
  savedAt: number;
  /** each instance's export (export-state), or all of its state (`whole`) */
  states: Uint8Array[];
  /** each state is all of one instance's (its kernel moves its state whole only): it goes into one instance */
  whole?: boolean;
}

/** per function (the user's name), devices whose state came back; per reason, saved files not used */
export class RestoredCounts {
  readonly devices = new Map<string, number>();
  readonly discarded = new Map<'changed' | 'unreadable' | 'refused', number>();

  discard(reason: 'changed' | 'unreadable' | 'refused'): void {
    this.discarded.set(reason, (this.discarded.get(reason) ?? 0) + 1);
  }
}

/**
 * The functions whose input starts again from its beginning at every start of serve, each with the source it
 * comes from: fed, directly or through other functions, by a source of the workflow's own that makes its
 * fixes (a replay, a simulation: HOSTED_SOURCES). State saved from their last run is ahead of that stream:
 * restored, a replayed vehicle's fixes would all be older than its last and skipped until they caught up.
 */
export function startsOver(wf: Workflow, functions: WorkflowFunction[]): Map<string, string> {
  const fed = new Map<string, string>();
  const tags = new Map(wf.sources.filter((s) => HOSTED_SOURCES.has(s.run) && !s.zipper).map((s) => [String(s.params?.tag ?? 'gps'), s.name]));
  for (let grew = true; grew; ) {
    grew = false;
    for (const f of functions) {
      const from = fed.has(f.name) ? undefined : f.observe.map((t) => tags.get(t)).find((s) => s !== undefined);
      if (from === undefined) continue;
      fed.set(f.name, from);
      for (const t of f.emit) if (!tags.has(t)) tags.set(t, from);
      grew = true;
    }
  }
  return fed;
}

/**
 * Why the whole states of `instances` instances of `f` (a kernel whose state moves whole only) would not be
 * what its instances are fed at the next start, given back instance for instance: sound with one instance,
 * or frames dealt round robin (each instance a share of the same stream). Partitioned, each instance's state
 * is that of the keys the zipper's hash ring gave it, and the ring's ids are new at every start: its keys go
 * to other instances, and a whole state cannot be split by key.
 */
export function wholeStateMisfit(f: WorkflowFunction, instances: number): string | undefined {
  if (instances < 2 || f.dispatch.kind !== 'partition') return undefined;
  const key = f.dispatch.key;
  return `its kernel moves its state whole only (no per-device export: docs/kernel-abi.md, Devices moving) and its ${instances} instances are partitioned by ${key}: the zipper's hash ring, whose ids are new at every start, would give each instance other ${key}s than its state was built from`;
}

/** the folder of the functions' saved states */
export const savedStatesFolder = (stateDir: string): string => join(stateDir, 'functions');

/** where a function's state is saved: a deployed function's versions (`heavy@3`) are one function */
export const savedStatePath = (stateDir: string, fn: string): string => join(savedStatesFolder(stateDir), stateFileName(functionNameOf(fn)));

/** what state built by this function's kernel and params is keyed by */
export async function stateKey(f: WorkflowFunction, baseDir: string): Promise<string> {
  const wasm = await readFile(kernelPath(f.kernel!, baseDir));
  const params = f.params ?? {};
  // a fence file rewritten under the same name is another kernel's data: its size and time go in the key
  const files = await Promise.all(
    Object.entries(params).map(async ([name, v]) => {
      const st = typeof v === 'string' && v ? await stat(resolve(baseDir, v)).catch(() => undefined) : undefined;
      return st?.isFile() ? [name, st.size, st.mtimeMs] : [];
    }),
  );
  return createHash('sha256').update(wasm).update(sortedJson({ params, files })).digest('hex');
}

/** JSON with every object's keys in order: the same params written in another order are the same params */
const sortedJson = (v: unknown): string => JSON.stringify(v, (_, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

/**
 * What a clean stop saves: the state of the kernel functions whose input does not start over (the others are
 * said once), gathered instance by instance as they close, written once their wave of functions has closed.
 */
export class SavedStates {
  private readonly saving: Map<string, WorkflowFunction>;
  private readonly gathered = new Map<string, (SavedInstance | undefined)[]>();

  constructor(
    private readonly wf: Workflow,
    functions: WorkflowFunction[],
    private readonly log: Logger,
  ) {
    // a cloud function's state is its workers', checkpointed in JetStream
    const kernels = functions.filter((f) => f.kernel !== undefined && f.where !== 'cloud');
    const over = startsOver(wf, functions);
    const why = (f: WorkflowFunction) => {
      const source = over.get(f.name);
      if (source !== undefined) return `its input, from source ${quoted(source)}, starts again from its beginning at the next start`;
      // what exports a kernel's devices as it closes is a host thread's stop; one in serve's own thread has none (docs/failure-handling.md)
      return f.timeout === 0 ? "it runs in the zipper's thread (timeout: 0)" : undefined;
    };
    for (const f of kernels) {
      const not = why(f);
      if (not) log.about(f.name).info(`${functionLabel(f.name)}: its state is not saved: ${not}`);
    }
    this.saving = new Map(kernels.filter((f) => !why(f)).map((f) => [f.name, f]));
  }

  saves(fn: string): boolean {
    return this.saving.has(fn);
  }

  /** the state of `fn`, scaled to zero, as its instance left it when it parked */
  addParked(fn: string, states: Uint8Array[]): void {
    if (this.saves(fn)) for (const bytes of states) this.add(fn, { bytes, devices: deviceIdsIn(bytes), whole: false });
  }

  /** what one instance of `fn` saved as it closed (undefined: it did not stop in time) */
  add(fn: string, s: SavedInstance | undefined): void {
    this.gathered.set(fn, [...(this.gathered.get(fn) ?? []), s]);
  }

  async write(): Promise<void> {
    for (const [fn, saved] of this.gathered) await saveFunctionState(this.wf.stateDir, this.wf.dir, this.saving.get(fn)!, saved, this.log);
    this.gathered.clear();
  }
}

/**
 * Writes what `f`'s instances saved as they closed (`saved`: one per instance; undefined, one that did not
 * stop in time), through a temporary file renamed over the last (writeAtomically), so a stop cut short leaves
 * the old file or the new one, never half of one. Says what was saved, and what could not be (those devices
 * start empty).
 */
async function saveFunctionState(stateDir: string, baseDir: string, f: WorkflowFunction, saved: (SavedInstance | undefined)[], log: Logger, now = Date.now()): Promise<void> {
  const label = functionLabel(f.name);
  const flog = log.about(f.name);
  const taken = saved.flatMap((s) => (s && 'bytes' in s ? [s] : []));
  const states = taken.map((s) => s.bytes);
  // round robin deals frames, not devices: one device may be in several instances' whole states
  const devices = new Set(taken.flatMap((s) => s.devices)).size;
  const whole = taken.some((s) => s.whole);
  const misfit = whole ? wholeStateMisfit(f, saved.length) : undefined;
  if (misfit) return flog.info(`${label}: its state is not saved: ${misfit}`);
  const errors = [...new Set(saved.map((s) => (s === undefined ? 'it did not stop in time' : 'error' in s ? s.error : undefined)).filter((e) => e !== undefined))];
  const lost = saved.length - states.length;
  // a whole state goes back only into as many instances as saved it: with one missing, none of it can
  if (lost) flog.warn(`${label}: the state of ${lost} of its ${saved.length} instances not saved (${errors.join('; ')}): ${whole ? 'it starts empty at the next start (all of its state moves whole only, instance for instance)' : 'their devices start empty at the next start'}`);
  if (!states.length || (whole && lost)) return;
  const file = savedStatePath(stateDir, f.name);
  try {
    await makeFolder(dirname(file), "the state folder's saved states folder");
    await writeAtomically(file, pack({ key: await stateKey(f, baseDir), savedAt: now, states, ...(whole ? { whole } : {}) } satisfies SavedState), 0o600);
    flog.info(`${label}: ${whole ? wholeState(states.length, devices) : `${thousands(devices)} devices' state`} saved to ${file}`);
  } catch (e) {
    flog.error(`${label}: ${whole ? 'its whole state' : "its devices' state"} could not be saved: ${(e as Error).message}; ${whole ? 'it starts' : 'they start'} empty at the next start`);
  }
}

/** what a log line calls the whole states of `instances` instances that saw the fixes of `devices` devices */
const wholeState = (instances: number, devices: number) => `its whole state (${instances} instance${instances === 1 ? '' : 's'}, from the fixes of ${thousands(devices)} devices)`;

/** restoreFunctionState for a function of `served`, its instances started: each device to its owner on the zipper's ring */
export const restoreServedState = (wf: Workflow, served: ServedWorkflow, f: WorkflowFunction, log: Logger): Promise<void> =>
  f.kernel === undefined ? Promise.resolve() : restoreFunctionState(wf.stateDir, wf.dir, f, threadsOf(served, f.name), () => served.zipper.instanceIds(f.name).joined, log, served.restored);

/**
 * Before any frame reaches them: the state `f`'s instances (`threads`, all started and joined) saved at
 * serve's last clean stop, each device into the instance that owns it now on `ring`'s ids. The file is
 * deleted first; state saved by another kernel or params is not used (said, counted).
 */
export async function restoreFunctionState(stateDir: string, baseDir: string, f: WorkflowFunction, threads: FunctionInstance[], ring: () => string[], log: Logger, counts: RestoredCounts): Promise<void> {
  if (!threads.length) return;
  const file = savedStatePath(stateDir, f.name);
  const label = functionLabel(f.name);
  const flog = log.about(f.name);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
    await unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    // a state that could not be marked read is not used: a crash after the import would feed it again
    counts.discard('unreadable');
    return flog.warn(`${label}: the state saved in ${file} could not be read and deleted (${(e as Error).message}): it starts empty`);
  }
  let saved: SavedState;
  try {
    saved = unpack(bytes) as SavedState;
    if (typeof saved?.key !== 'string' || !Array.isArray(saved.states) || !Number.isFinite(saved.savedAt)) throw new Error('not a saved state');
  } catch (e) {
    counts.discard('unreadable');
    return flog.warn(`${label}: ${file} is not a state serve saved (${(e as Error).message}): deleted, it starts empty`);
  }
  const when = new Date(saved.savedAt).toISOString();
  if (saved.key !== (await stateKey(f, baseDir))) {
    counts.discard('changed');
    return flog.warn(`${label}: the state saved in ${file} (saved ${when}) is not used: its kernel or params (or a file they name) changed since; it starts empty`);
  }
  const misfit = saved.whole && (wholeStateMisfit(f, threads.length) ?? (saved.states.length !== threads.length ? `it is the whole state of ${saved.states.length} instances, and the function now has ${threads.length}: a whole state is neither split nor merged` : undefined));
  if (misfit) {
    counts.discard('changed');
    return flog.warn(`${label}: the state saved in ${file} (saved ${when}) is not used: ${misfit}; it starts empty`);
  }
  let n: number;
  let refused: Error[] = [];
  try {
    if (saved.whole) refused = await importWhole(threads, saved.states);
    else {
      await threads[0].ask({ geoflux: 'import-state', bytes: saved.states });
      await rebalance(threads, ring);
    }
    n = new Set((await heldDevices(threads)).flatMap((h) => h.devices)).size;
  } catch (e) {
    // none of it, rather than some devices with state and others without
    await Promise.allSettled(threads.map((t) => t.ask({ geoflux: 'drop-state' })));
    counts.discard('refused');
    return flog.warn(`${label}: the state saved in ${file} (saved ${when}) was refused (${(e as Error).message}): it starts empty`);
  }
  const name = functionNameOf(f.name);
  counts.devices.set(name, (counts.devices.get(name) ?? 0) + n);
  if (!refused.length) return flog.info(`${name}: ${saved.whole ? wholeState(threads.length, n) : `${thousands(n)} devices' state`} restored from ${file} (saved ${when})`);
  counts.discard('refused');
  const all = refused.length === threads.length;
  flog.warn(`${label}: the state saved in ${file} (saved ${when}) was refused${all ? '' : ` by ${refused.length} of its ${threads.length} instances`} (${refused[0].message}): ${all ? 'it starts empty' : 'they start empty, the others go on from theirs'}`);
}

/**
 * Each instance's whole state into the instance of the same place; what refused it, why. A whole state is
 * not dropped again (it has no per-device drop), so one instance refusing its own leaves the others theirs:
 * dealt round robin, each is a share of the stream of its own.
 */
async function importWhole(threads: FunctionInstance[], states: Uint8Array[]): Promise<Error[]> {
  const settled = await Promise.allSettled(threads.map((t, i) => t.ask({ geoflux: 'import-state', bytes: [states[i]] })));
  return settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
}
