/** Counts things and tells their rate since the last look: "fixes/s" on a status line. */
export class Rate {
  total = 0;
  private seen = 0;
  private at = performance.now();

  add(n: number): void {
    this.total += n;
  }

  /** per second since the previous call */
  perSecond(): number {
    const now = performance.now();
    const r = ((this.total - this.seen) * 1000) / Math.max(1, now - this.at);
    [this.seen, this.at] = [this.total, now];
    return r;
  }
}

/** simulated seconds as h:mm:ss */
export const clock = (seconds: number): string => {
  const s = Math.floor(seconds);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};
