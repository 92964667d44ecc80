import { addUp } from '../metrics/families.ts';
import type { FunctionInstance } from '../runtime/module-thread.ts';
import type { StreamFunction } from '../sfn/connect-stream-function.ts';
import type { KernelRunStats } from '../sfn/kernel-batches.ts';
import { functionNameOf } from './versioned-name.ts';

type Stats = Record<string, unknown>;

/** what instances counted over their lives, and their threads' restarts by reason */
export interface Counted {
  total: Stats;
  restarts: Record<string, number>;
}

/** what an instance has counted over its whole life: its thread's earlier incarnations and the current one */
export const lifetime = (t: FunctionInstance): Stats => addUp([...t.retired, t.stats]);

/**
 * What an instance leaves when it is retired: its lifetime's counts, but its kernel's own counters
 * (`kernel.counters`) as its last incarnation had them. An instance started again restores those from its
 * snapshot and counts on, so summed over its incarnations a host's restart, then a replace, counted them twice.
 */
export function instanceCounts(t: FunctionInstance): Counted {
  const total = lifetime(t);
  const kernel = total.kernel as Stats | undefined;
  // a closed instance's last report is among its earlier ones'
  const latest = (t.stats ?? t.retired.at(-1)) as Stats | undefined;
  const last = (latest?.kernel as Stats | undefined)?.counters;
  return { total: kernel ? { ...total, kernel: { ...kernel, counters: last } } : total, restarts: t.restarts };
}

/** what an instance in serve's own thread (`timeout: 0`) has counted */
export const hereCounts = (sfn: StreamFunction, kernel: KernelRunStats | undefined): Stats => ({ ...sfn.stats(), kernel: kernel?.snapshot() });

/**
 * What the instances a function no longer runs counted (an old version after a replace, a park, a scale
 * down), by the user's function name: a Prometheus counter must not fall when instances go, nor start over
 * with a version. An instance still closing is read live (it finishes what it holds, counting on); once
 * closed, it is read a last time and kept as a sum.
 */
export class RetiredCounts {
  private readonly kept = new Map<string, Counted>();
  private readonly closing = new Set<{ fn: string; read: () => Counted }>();

  retire(zipperName: string, read: () => Counted, closed: Promise<unknown>): void {
    const c = { fn: functionNameOf(zipperName), read };
    this.closing.add(c);
    const done = () => {
      this.closing.delete(c);
      const [was, now] = [this.kept.get(c.fn), read()];
      this.kept.set(c.fn, { total: addUp([was?.total, now.total]), restarts: addUp([was?.restarts, now.restarts]) as Record<string, number> });
    };
    void closed.then(done, done);
  }

  /** by the user's function name */
  byFunction(): [string, Counted][] {
    return [...this.kept, ...[...this.closing].map((c): [string, Counted] => [c.fn, c.read()])];
  }
}
