import type { Logger } from '../log/logger.ts';
import type { FunctionInstance } from '../runtime/module-thread.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { moveDevices, MoveFailed } from './move-devices.ts';
import { SETTLE_TIMEOUT, threadsOf } from './park.ts';
import { startFunction, stopFunction, type ServedWorkflow } from './serve-workflow.ts';

/**
 * A running function replaced by a new version without loss (issue #23, item 2). The new version's instances
 * start in standby (they join the zipper, nothing is routed to them); then the old version is paused: frames
 * for it are held from then on, and those its instances already hold they finish, their outputs out. At that
 * frame boundary the old instances' per-device state goes into every new instance (docs/kernel-abi.md,
 * Devices moving); a new version that refuses it is incompatible, and the old one resumes as if nothing
 * happened. Otherwise the old instances forget their devices (so closing them flushes nothing twice), the
 * routes switch, the held frames go to the new instances in order, and the old ones are closed.
 */

export class ReplaceRefused extends Error {}

export interface Replaced {
  /** ms from the pause to the switch: how long frames were held */
  heldMs: number;
  /**
   * `moved`: the old version's state went over; `none`: it held none (a kernel that keeps no state, or no
   * device yet), so there was nothing to hand over; `fresh`: the new one started empty, as asked
   */
  state: 'moved' | 'none' | 'fresh';
}

export async function replaceFunction(wf: Workflow, served: ServedWorkflow, log: Logger, old: WorkflowFunction, next: WorkflowFunction, fresh: boolean): Promise<Replaced> {
  const { zipper } = served;
  zipper.addFunction({ name: next.name, observe: next.observe, dispatch: next.dispatch }, { standby: true });
  const undoNext = async () => {
    await stopFunction(served, next.name, 0);
    zipper.removeFunction(next.name);
  };
  try {
    await startFunction(wf, next, served, log, (e) => new ReplaceRefused(`the new version could not start: ${e.message}`));
  } catch (e) {
    await undoNext();
    throw e;
  }
  const t0 = performance.now();
  let held = 0;
  zipper.pauseFunction(old.name);
  try {
    if (!(await zipper.settled(old.name, SETTLE_TIMEOUT))) throw new ReplaceRefused(`the running version did not finish the frames it holds within ${SETTLE_TIMEOUT / 1000} s: not replaced`);
    if (!fresh) held = await handOver(threadsOf(served, old.name), threadsOf(served, next.name));
  } catch (e) {
    zipper.resumeFunction(old.name);
    await undoNext();
    throw e;
  }
  zipper.switchFunction(old.name, next.name);
  const heldMs = performance.now() - t0;
  await stopFunction(served, old.name);
  return { heldMs, state: fresh ? 'fresh' : held ? 'moved' : 'none' };
}

/** Every old instance's devices into every new one; once all took them, the old ones forget them. Returns how many old instances held state. */
function handOver(from: FunctionInstance[], to: FunctionInstance[]): Promise<number> {
  return moveDevices(from.map((t) => ({ from: t, to }))).catch((e: Error) => {
    if (!(e instanceof MoveFailed)) throw e;
    throw new ReplaceRefused(
      e.stage === 'export'
        ? `the running version's state could not be taken: ${e.message}`
        : `the new version cannot take the running version's state (${e.message}): its state layout is incompatible; not replaced (--fresh-state replaces it with empty state)`,
    );
  });
}
