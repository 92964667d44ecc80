/**
 * Which frames a function has already taken, by writer and sequence number, to skip one the zipper hands it
 * again (its ack was lost with a connection). Not a high-water mark: the zipper also hands on frames that
 * another instance died holding, and those are older than what this one has seen from the same writer.
 * The last `perWriter` sequence numbers of each writer are kept.
 */
export class SeenFrames {
  private readonly writers = new Map<string, { seqs: Set<number>; order: number[]; head: number }>();

  constructor(private readonly perWriter = 8192) {}

  /** true when (from, seq) was seen before; otherwise remembers it */
  check(from: string, seq: number): boolean {
    let w = this.writers.get(from);
    if (!w) this.writers.set(from, (w = { seqs: new Set(), order: [], head: 0 }));
    if (w.seqs.has(seq)) return true;
    w.seqs.add(seq);
    w.order.push(seq);
    if (w.order.length - w.head > this.perWriter) w.seqs.delete(w.order[w.head++]);
    if (w.head > this.perWriter) {
      w.order = w.order.slice(w.head);
      w.head = 0;
    }
    return false;
  }
}
