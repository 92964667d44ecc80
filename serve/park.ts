import type { Logger } from '../log/logger.ts';
import type { FunctionInstance } from '../runtime/module-thread.ts';
import type { KeptKernel } from './function-hosts.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { startFunction, stopFunction, type ServedWorkflow } from './serve-workflow.ts';

/**
 * A function's instances closed with their state kept (scaled to zero), and started again from it. The park
 * pauses the function while it takes the state, so that no frame reaches an instance that is closing: frames
 * wait in the zipper, and go on in order to the woken instance, which takes them only once its state is back.
 */

/** ms a function's instances get to finish the frames they hold before their state is taken */
export const SETTLE_TIMEOUT = 30_000;

export const threadsOf = (served: ServedWorkflow, fn: string): FunctionInstance[] => served.functionThreads.filter((t) => t.fn === fn).map((t) => t.thread);

/**
 * Runs `work` at a frame boundary of function `fn`: its frames held from now on, those its instances hold
 * finished (their outputs out) first; once `work` is done, or has failed, the held frames go on in order.
 */
export async function atFrameBoundary<T>(served: ServedWorkflow, fn: string, work: () => Promise<T>): Promise<T> {
  const { zipper } = served;
  zipper.pauseFunction(fn);
  try {
    if (!(await zipper.settled(fn, SETTLE_TIMEOUT))) throw new Error(`its instances did not finish the frames they hold within ${SETTLE_TIMEOUT / 1000} s`);
    return await work();
  } finally {
    zipper.resumeFunction(fn);
  }
}

/** What a function left as it parked: its instances' state, and what made its kernel, kept by a host thread (a kernel's there). */
export interface Parked {
  states: Uint8Array[];
  kernel?: KeptKernel;
}

/**
 * Takes the state of every instance of `f` (they then forget it, so closing flushes nothing) and closes
 * them, the host of the first keeping what made its kernel; returns both, for the wake.
 */
export function parkFunction(served: ServedWorkflow, f: WorkflowFunction): Promise<Parked> {
  // with no instance left, the frames held meanwhile (and the next) wait for the wake
  return atFrameBoundary(served, f.name, async () => {
    const threads = threadsOf(served, f.name);
    const states = (await Promise.all(threads.map((t) => t.ask({ geoflux: 'export-state' })))).filter((s): s is Uint8Array => s !== undefined);
    await Promise.all(threads.map((t) => t.ask({ geoflux: 'drop-state' })));
    return { states, kernel: await stopFunction(served, f.name, undefined, true) };
  });
}

/**
 * Starts one instance of `f` and gives it the state `parkFunction` took, its kernel made by what its host
 * kept (taken by this wake, whether or not it starts). The frames held for it go to the instance as soon as
 * it joins the zipper, which it does while its kernel opens (`joinEarly`): they wait in its thread, not for
 * a round trip through serve's once it is ready. One whose kernel fails to open says goodbye holding them,
 * so the zipper holds them again, whole and unblamed, for the next wake.
 */
export async function wakeFunction(wf: Workflow, served: ServedWorkflow, log: Logger, f: WorkflowFunction, parked: Parked): Promise<void> {
  try {
    await startFunction(wf, { ...f, instances: 1 }, served, log, (e) => e, parked);
  } catch (e) {
    await stopFunction(served, f.name, 0);
    throw e;
  }
}
