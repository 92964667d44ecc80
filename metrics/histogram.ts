/**
 * A histogram with fixed bucket bounds, as plain numbers: cheap to observe on a hot path, and its state is
 * a small object a worker thread can post to the zipper's thread, where the Prometheus export adds them up.
 */
export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array(bounds.length).fill(0);
  }

  observe(x: number): void {
    this.sum += x;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (x <= this.bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }

  snapshot(): HistogramSnapshot {
    return { bounds: [...this.bounds], counts: [...this.counts], sum: this.sum, count: this.count };
  }
}

/** What observations fell at or below each bound (not cumulative), their sum and their number. */
export interface HistogramSnapshot {
  bounds: number[];
  counts: number[];
  sum: number;
  count: number;
}

/** milliseconds, from a tenth of one to ten seconds */
export const MS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10_000] as const;

/** seconds, from a millisecond to a minute */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** a histogram kept in ms, as Prometheus wants it: in seconds */
export const inSeconds = (h: HistogramSnapshot): HistogramSnapshot => ({ ...h, bounds: h.bounds.map((b) => b / 1000), sum: h.sum / 1000 });
