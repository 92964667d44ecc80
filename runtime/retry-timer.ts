import { backoffDelay } from '../client/backoff.ts';
import type { Clock } from '../transport/liveness.ts';

type Timers = Pick<Clock, 'setTimeout' | 'clearTimeout'>;

// a retry under way keeps its process alive until it has run, as a thread's restart always did
const refTimers: Timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

export interface RetryTimerOptions {
  /** the first delay's cap and the cap of every delay, ms (each delay is drawn in [0, min(max, initial·2ⁿ)]: backoffDelay) */
  initial: number;
  max: number;
  /** what times the delays (tests move it by hand) */
  timers?: Timers;
  random?: () => number;
}

/**
 * Runs something again after a failure, with exponential backoff and full jitter, until ended: a thread that
 * died (runtime/module-thread.ts) and a hosted source that could not start again (serve/function-hosts.ts)
 * wait the same way, and serve's stop ends both, so nothing starts while it stops.
 */
export class RetryTimer {
  private attempt = 0;
  private timer: unknown;
  private over = false;
  private readonly timers: Timers;

  constructor(private readonly o: RetryTimerOptions) {
    this.timers = o.timers ?? refTimers;
  }

  /** Runs `again` after the next delay, which it returns; once ended, runs nothing and returns undefined. */
  schedule(again: () => void): number | undefined {
    if (this.over) return undefined;
    const delay = backoffDelay(this.attempt++, this.o.initial, this.o.max, this.o.random);
    this.timers.clearTimeout(this.timer);
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      if (!this.over) again();
    }, delay);
    return delay;
  }

  /** the next failure waits the first delay again (what failed has since run well) */
  reset(): void {
    this.attempt = 0;
  }

  /** Nothing scheduled runs, nor is anything scheduled again. */
  end(): void {
    this.over = true;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
