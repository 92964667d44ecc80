/**
 * When a deployed function with room between `--min` and `--max` gets an instance more or one less (issue
 * #23, item 3), from samples of its backlog (frames held unacknowledged by its instances or waiting for one)
 * on an injected clock, so that a test plays minutes of samples in no time. What adding and removing do is
 * the caller's (serve/scale-instances.ts); this decides only when. docs/serverless.md has the rule's
 * measurements.
 */

export interface AutoscaleRule {
  /** frames of backlog per instance above which the function is short of instances */
  upBacklog: number;
  /** ms every sample must show more than `upBacklog` per instance before an instance is added */
  upAfterMs: number;
  /** ms every sample must show no backlog at all before an instance is removed */
  idleAfterMs: number;
}

/**
 * 64 frames an instance: a geofence instance works through them in ~10 ms (docs/serverless.md), so a
 * backlog this deep that lasts 2 s is demand, not a burst; 30 s without any keeps a function that gets a
 * frame every few seconds at the size its last burst needed.
 */
export const DEFAULT_AUTOSCALE: AutoscaleRule = { upBacklog: 64, upAfterMs: 2000, idleAfterMs: 30_000 };

export class Autoscale {
  /** the clock's time since when every sample was over `upBacklog` per instance, or undefined */
  private overSince: number | undefined;
  /** since when every sample showed no backlog, or undefined */
  private idleSince: number | undefined;

  constructor(
    private readonly rule: AutoscaleRule,
    /** the instances it may run while it runs: `--min` (at least 1: the last one goes by scaling to zero) to `--max` */
    private readonly bounds: { min: number; max: number },
    private readonly clock: () => number,
  ) {}

  /** A sample of the function's backlog and instance count: +1 to add an instance, -1 to remove one, 0. */
  decide(backlog: number, instances: number): -1 | 0 | 1 {
    const now = this.clock();
    const lo = Math.max(1, this.bounds.min);
    this.overSince = backlog > this.rule.upBacklog * Math.max(1, instances) ? (this.overSince ?? now) : undefined;
    this.idleSince = backlog === 0 ? (this.idleSince ?? now) : undefined;
    if (instances < this.bounds.max && this.overSince !== undefined && now - this.overSince >= this.rule.upAfterMs) return 1;
    if (instances > lo && this.idleSince !== undefined && now - this.idleSince >= this.rule.idleAfterMs) return -1;
    return 0;
  }

  /** After a change (or a pause of sampling): the windows start over, so that the new size is judged on its own samples. */
  restart(): void {
    this.overSince = undefined;
    this.idleSince = undefined;
  }
}
