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
  /** ms from the first frame held for the parked function to its new instance ready (the held frames are with it by then), the last time */
  lastColdStartMs = 0;
  coldStartMsTotal = 0;
  /** frames held for it while parked after serve began to stop, which woke nothing */
  unwoken = 0;
  private stopping = false;
  private since: number;
  /** frames that came while it was parking, or while a failed wake's backoff ran: wake as soon as it may */
  private wanted = 0;
  /** wakes that failed in a row, and the clock's time before which it does not try again */
  private failedWakes = 0;
  private retryAt = 0;
  /** the wake under way: serve's stop waits for it before it closes the function */
  waking: Promise<void> | undefined;

  constructor(private readonly o: ScaleToZeroOptions) {
    this.since = o.clock();
  }

  /** Parks the function if it has been idle long enough; called periodically. */
  async tick(): Promise<void> {
    if (this.state === 'parked' && this.wanted) return this.heldBefore();
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
    if (this.wanted) await this.heldBefore();
  }

  /**
   * Serve stops: a frame held from now on wakes nothing. A wake is a start (an instance, maybe a host thread,
   * its kernel and state) after the restarts have ended, spent from the one deadline every close shares,
   * and what it would handle is not lost for it: left unacknowledged, a frame is kept by its writer for a
   * resend, or counted lost at close when serve's own threads wrote it. A wake already under way is waited
   * for (`waking`).
   */
  stop(): void {
    this.stopping = true;
    if (this.state === 'parked' && this.wanted) void this.heldBefore();
  }

  /** `frames` were held for the function (it has no instance): wakes it if it is parked. */
  async held(frames = 1): Promise<void> {
    if (this.state === 'parking') this.wanted += frames;
    if (this.state !== 'parked') return;
    if (this.stopping) return this.notWoken(frames);
    if (this.o.clock() < this.retryAt) return void (this.wanted += frames);
    this.wanted = 0;
    this.state = 'waking';
    this.waking = this.wake();
    await this.waking;
    this.waking = undefined;
  }

  /** the frames held while it could not wake yet, now it may */
  private heldBefore(): Promise<void> {
    const frames = this.wanted;
    this.wanted = 0;
    return this.held(frames);
  }

  private notWoken(frames: number): void {
    const first = this.unwoken === 0;
    this.unwoken += frames;
    // once per stop: the count is in /metrics, and each frame's fate in the zipper's closing line
    if (first) this.o.log.warn('serve stops: not started again from zero for the frames held for it, which stay unacknowledged (geoflux_function_unwoken_frames_total)');
  }

  private async wake(): Promise<void> {
    const t0 = this.o.clock();
    try {
      await this.o.wake();
      this.coldStarts++;
      this.lastColdStartMs = this.o.clock() - t0;
      this.coldStartMsTotal += this.lastColdStartMs;
      this.o.log.info(`started again from zero: ${this.lastColdStartMs} ms from the first frame held to its instance ready`);
      this.state = 'running';
      this.since = this.o.clock();
      this.failedWakes = 0;
    } catch (e) {
      // its frames stay held; a frame held after the backoff (or the next tick, if one came meanwhile) tries again:
      // a wake that fails for good (its fence file gone) is tried, and said, at most every 30 s
      const backoff = Math.min(30_000, 1000 * 2 ** this.failedWakes++);
      this.retryAt = this.o.clock() + backoff;
      this.o.log.error(`could not start again from zero (${this.failedWakes} in a row), trying again in ${backoff / 1000} s at the next frame: ${(e as Error).message}`);
      this.state = 'parked';
    }
  }
}
