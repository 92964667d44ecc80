import type { Logger } from '../log/logger.ts';

/**
 * A deployed function with `--min 0` (issue #23, item 3): once its instances have had no frame for `idleMs`
 * it is parked (its state taken, its instances closed), and the first frame held for it wakes it (an
 * instance started, the state put back, the held frames sent). What parking and waking do is the caller's
 * (serve/deployments.ts); this is when, on an injected clock, so that a test need not wait the idle period.
 */

export interface ScaleToZeroOptions {
  /** ms without a frame after which the function is parked */
  idleMs: number;
  clock: () => number;
  /** the clock's time of the last frame sent to or held for the function (0: none yet) */
  lastActive: () => number;
  /** whether its instances hold frames not yet handled */
  busy: () => boolean;
  park: () => Promise<void>;
  wake: () => Promise<void>;
  log: Logger;
}

export class ScaleToZero {
  state: 'running' | 'parking' | 'parked' | 'waking' = 'running';
  parks = 0;
  coldStarts = 0;
  /** ms from the first frame held for the parked function to the frames sent to its new instance, the last time */
  lastColdStartMs = 0;
  coldStartMsTotal = 0;
  private since: number;
  /** a frame came while it was parking: wake as soon as it is parked */
  private wanted = false;

  constructor(private readonly o: ScaleToZeroOptions) {
    this.since = o.clock();
  }

  /** Parks the function if it has been idle long enough; called periodically. */
  async tick(): Promise<void> {
    if (this.state !== 'running' || this.o.busy()) return;
    if (this.o.clock() - Math.max(this.o.lastActive(), this.since) < this.o.idleMs) return;
    this.state = 'parking';
    try {
      await this.o.park();
      this.parks++;
      this.state = 'parked';
    } catch (e) {
      this.o.log.error(`could not scale to zero, goes on running: ${(e as Error).message}`);
      this.state = 'running';
      this.since = this.o.clock();
    }
    if (this.wanted) await this.held();
  }

  /** A frame was held for the function (it has no instance): wakes it if it is parked. */
  async held(): Promise<void> {
    if (this.state === 'parking') this.wanted = true;
    if (this.state !== 'parked') return;
    this.wanted = false;
    this.state = 'waking';
    const t0 = this.o.clock();
    try {
      await this.o.wake();
      this.coldStarts++;
      this.lastColdStartMs = this.o.clock() - t0;
      this.coldStartMsTotal += this.lastColdStartMs;
      this.o.log.info(`started again from zero: ${this.lastColdStartMs} ms from the first frame held to the held frames sent on`);
      this.state = 'running';
      this.since = this.o.clock();
    } catch (e) {
      // its frames stay held; the next one held tries again
      this.o.log.error(`could not start again from zero: ${(e as Error).message}`);
      this.state = 'parked';
    }
  }
}
