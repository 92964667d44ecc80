import { setImmediate as yieldToIo } from 'node:timers/promises';
import { systemClock, type Clock } from './clock.ts';

/**
 * Keeps simulated time `speed` times ahead of the clock; `Infinity` runs as fast as possible but still
 * yields to the event loop each step, so sockets drain and Ctrl-C is heard.
 */
export class Pacer {
  private readonly wall0: number;

  constructor(
    readonly speed: number,
    /** the simulated second (or ms, as long as `unit` matches) that corresponds to now */
    private readonly sim0 = 0,
    /** wall milliseconds per simulated unit at 1x */
    private readonly unit = 1000,
    private readonly clock: Clock = systemClock,
  ) {
    if (!(speed > 0)) throw new Error(`speed must be > 0 (got ${speed})`);
    this.wall0 = clock.now();
  }

  /** the simulated time due now (Infinity when unpaced) */
  now(): number {
    return Number.isFinite(this.speed) ? this.sim0 + ((this.clock.now() - this.wall0) * this.speed) / this.unit : Infinity;
  }

  /** resolves when simulated time `at` is due (at once if it already is), or when `signal` aborts */
  async until(at: number, signal?: AbortSignal): Promise<void> {
    if (!Number.isFinite(this.speed)) return void (await yieldToIo());
    let wait = this.wall0 + ((at - this.sim0) * this.unit) / this.speed - this.clock.now();
    while (wait > 0 && !signal?.aborted) {
      await this.clock.sleep(wait, signal);
      wait = this.wall0 + ((at - this.sim0) * this.unit) / this.speed - this.clock.now();
    }
  }
}

/** "10x", "10", "0.5x" → 10, 10, 0.5; "max" or "fast" → Infinity */
export function parseSpeed(v: unknown): number {
  const s = String(v).trim().toLowerCase();
  if (s === 'max' || s === 'fast' || s === 'inf' || s === 'infinity') return Infinity;
  const x = Number(s.replace(/x$/, ''));
  if (!(x > 0)) throw new Error(`speed "${String(v)}" is not a positive number like 10x (or "max")`);
  return x;
}
