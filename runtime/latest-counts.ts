/**
 * A module's counters as its thread reports them: with its pongs, and a function's with each ack
 * (AckFrame.counted). A host thread's pong reports all its instances, by slot; an instance's ack, only its own.
 */
export interface Counted {
  stats: unknown;
  /** the report's number in its thread (unnumbered: a source's, which has no acks) */
  n?: number;
  /** the host's slot of the instance it is about, when it is about one only */
  slot?: number;
}

/**
 * The newest a thread has reported. Pongs come on the thread's port and acks on each function's channel,
 * so an older report may arrive after a newer one: a report no newer than what was taken (for its slot, or
 * the whole) is left out, and a whole that is older than some slot's report keeps that slot's.
 */
export class LatestCounts {
  value: unknown;
  private whole = 0;
  /** slots reported on their own after the last whole, and the number of that report */
  private readonly slots = new Map<number, number>();

  take(c: Counted): void {
    if (c.n === undefined) {
      this.value = c.stats;
    } else if (c.slot === undefined) {
      if (c.n <= this.whole) return;
      const value = c.stats as Record<number, unknown>;
      for (const [slot, n] of this.slots) {
        if (n > c.n) value[slot] = (this.value as Record<number, unknown>)[slot];
        else this.slots.delete(slot);
      }
      [this.value, this.whole] = [value, c.n];
    } else {
      if (c.n <= Math.max(this.whole, this.slots.get(c.slot) ?? 0)) return;
      this.slots.set(c.slot, c.n);
      ((this.value ??= {}) as Record<number, unknown>)[c.slot] = c.stats;
    }
  }
}
