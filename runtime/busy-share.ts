/** What `performance.eventLoopUtilization()` gives: ms of the event loop's time idle and busy since the thread started. */
export interface LoopTimes {
  idle: number;
  active: number;
}

/**
 * The share of a thread's event loop that was busy over its last whole window of at least `windowMs` (2 s by
 * default), from samples of its cumulative loop times (a Worker's `performance.eventLoopUtilization()`, read
 * from the thread that started it). Undefined until the first window is whole: a thread that has just
 * started says nothing of the load it will carry.
 */
export class BusyShare {
  private mark: LoopTimes | undefined;
  private last: number | undefined;

  constructor(private readonly windowMs = 2000) {}

  sample(t: LoopTimes): void {
    if (!this.mark) return void (this.mark = t);
    const [idle, active] = [t.idle - this.mark.idle, t.active - this.mark.active];
    if (idle + active < this.windowMs) return;
    this.last = active / (idle + active);
    this.mark = t;
  }

  get share(): number | undefined {
    return this.last;
  }
}
