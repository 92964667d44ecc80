import type { Clock } from '../transport/liveness.ts';

/** For tests: a clock that moves only when told, running the timers that fall due on the way, in order. */
export class ManualClock implements Clock {
  private t = 0;
  private stalledMs = 0;
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** timers waiting */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, running each timer at its moment (a timer may set others). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }

  /** Jumps `ms` ahead without running anything on the way, as a process whose event loop was blocked sees it. */
  stall(ms: number): void {
    this.t += ms;
    this.stalledMs += ms;
  }

  /** the stalls so far, all known at once (a real meter knows a stall under way as soon as it is asked) */
  stalled(): number {
    return this.stalledMs;
  }
}
