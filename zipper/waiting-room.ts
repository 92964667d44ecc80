import type { Unacked } from './connection.ts';

/**
 * Frames for functions that have no instance joined, per function, until one joins. Bounded: past `max` a
 * function's oldest frame goes, and the caller counts it.
 */
export class WaitingRoom {
  private readonly queues = new Map<string, Unacked[]>();

  constructor(private readonly max: number) {}

  /** Holds `u`; returns the frame it had to drop to stay within bounds, if any. */
  hold(u: Unacked): Unacked | undefined {
    let q = this.queues.get(u.fn);
    if (!q) this.queues.set(u.fn, (q = []));
    q.push(u);
    return q.length > this.max ? q.shift() : undefined;
  }

  /** Everything held for `fn`, oldest first, which leaves the room. */
  release(fn: string): Unacked[] {
    const q = this.queues.get(fn) ?? [];
    this.queues.delete(fn);
    return q;
  }

  size(fn: string): number {
    return this.queues.get(fn)?.length ?? 0;
  }

  sizes(): Record<string, number> {
    return Object.fromEntries([...this.queues].map(([k, v]) => [k, v.length]));
  }
}
