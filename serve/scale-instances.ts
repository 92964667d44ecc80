import type { Logger } from '../log/logger.ts';
import type { FunctionInstance } from '../runtime/module-thread.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { rebalance } from './move-devices.ts';
import { atFrameBoundary, threadsOf } from './park.ts';
import { instanceCounts } from './retired-counts.ts';
import { retire, startFunction, type ServedWorkflow } from './serve-workflow.ts';

/**
 * What autoscaling (serve/autoscale.ts) asks of whatever hosts a function's instances: one more, one fewer,
 * each with the devices whose owner on the zipper's hash ring changes moved, state and all, at a frame
 * boundary, before any frame of theirs reaches the new owner: no fix lost, none handled twice, no `enter`
 * fired again. Today an instance is a thread of its own; behind this interface it may be a slot of a pool.
 */
export interface InstanceHost {
  /** instances running */
  count(): number;
  add(): Promise<ScaleChange>;
  remove(): Promise<ScaleChange>;
}

export interface ScaleChange {
  /** ms the function's frames were held while the devices moved */
  heldMs: number;
  /** devices whose state moved */
  moved: number;
}

/** A deployed function's instances as threads of their own (serve/serve-workflow.ts). */
export function threadInstances(wf: Workflow, served: ServedWorkflow, log: Logger, f: WorkflowFunction): InstanceHost {
  const { zipper } = served;
  const timed = async (work: () => Promise<number>): Promise<ScaleChange> => {
    const t0 = performance.now();
    const moved = await atFrameBoundary(served, f.name, work);
    return { heldMs: performance.now() - t0, moved };
  };
  return {
    count: () => threadsOf(served, f.name).length,

    // the new instance starts (and joins the zipper) aside, routed nothing, so that only the move is paused
    async add() {
      zipper.gateJoins(f.name);
      const before = new Set(threadsOf(served, f.name));
      let added: FunctionInstance | undefined;
      try {
        await startFunction(wf, { ...f, instances: 1 }, served, log, (e) => e);
        added = threadsOf(served, f.name).find((t) => !before.has(t))!;
        return await timed(async () => {
          const { joined, aside } = zipper.instanceIds(f.name);
          const { moved } = await rebalance(threadsOf(served, f.name), () => [...joined, ...aside]);
          zipper.admitJoined(f.name);
          return moved;
        });
      } catch (e) {
        // what the new instance took it forgets, so that closing it flushes nothing; the old owners kept theirs
        for (const id of zipper.instanceIds(f.name).aside) zipper.retireInstance(f.name, id);
        zipper.admitJoined(f.name);
        if (added) await added.ask({ geoflux: 'drop-state' }).catch(() => undefined);
        if (added) await stopThread(served, f.name, added);
        throw e;
      }
    },

    // the last instance leaves the ring at the boundary, its devices with their new owners; closed after
    async remove() {
      const threads = threadsOf(served, f.name);
      const leaving = threads[threads.length - 1];
      const change = await timed(async () => {
        const { joined } = zipper.instanceIds(f.name);
        let id = '';
        const { moved } = await rebalance(threads, (instances) => {
          id = instances.find((i) => i.thread === leaving)!.id;
          return joined.filter((j) => j !== id);
        });
        zipper.retireInstance(f.name, id);
        return moved;
      });
      await stopThread(served, f.name, leaving);
      return change;
    },
  };
}

/** Closes one instance's thread (it holds nothing: no frame went to it since it left the ring) and forgets it, not what it counted. */
async function stopThread(served: ServedWorkflow, fn: string, thread: FunctionInstance): Promise<void> {
  served.functionThreads = served.functionThreads.filter((t) => t.thread !== thread);
  await retire(served, fn, () => instanceCounts(thread), thread.close());
}
