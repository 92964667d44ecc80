import type { DataFrame } from '../codecs/frame-types.ts';
import { Fifo } from '../runtime/fifo.ts';

export interface SpooledFrame {
  frame: DataFrame;
  records: number;
}

/**
 * The frames a writer has made and the zipper has not acknowledged, oldest first, bounded by a record count.
 * While disconnected it fills; on reconnect what the zipper lacks is sent again. When full, the oldest
 * frames go (the newest fixes matter most to live tracking) and are counted, never lost silently.
 */
export class Spool {
  private items = new Fifo<SpooledFrame>();
  records = 0;
  /** records dropped because the spool was full */
  dropped = 0;
  /** records given up because the zipper refused their frames (too large), never to be resent */
  refused = 0;
  /**
   * Frames pushed out of a full spool after they were sent: no longer kept for a resend, but likely to
   * arrive. They count as dropped only if the connection they went out on ends before the zipper has them.
   */
  private unkept: { seq: number; records: number }[] = [];

  constructor(readonly capacity: number) {}

  /** frames kept, and frames sent but no longer kept, not yet acknowledged */
  get frames(): number {
    return this.items.length + this.unkept.length;
  }

  /** records sent and acknowledged by no one yet, but no longer kept for a resend */
  get unkeptRecords(): number {
    return this.unkept.reduce((n, u) => n + u.records, 0);
  }

  /**
   * Adds a frame; makes room by letting the oldest go. What was `sent` is only no longer kept; what was not
   * is dropped. Returns the records dropped, and those no longer kept.
   */
  push(item: SpooledFrame, sent: boolean): { dropped: number; unkept: number } {
    this.items.push(item);
    this.records += item.records;
    const out = { dropped: 0, unkept: 0 };
    while (this.records > this.capacity && this.frames > 1) {
      const old = this.items.shift()!;
      this.records -= old.records;
      if (sent) {
        this.unkept.push({ seq: old.frame.seq, records: old.records });
        out.unkept += old.records;
      } else out.dropped += old.records;
    }
    this.dropped += out.dropped;
    return out;
  }

  /** The connection ended and a new one says what the zipper holds: the unkept frames it lacks are lost. */
  reconnected(lastSeq: number): number {
    let lost = 0;
    for (const u of this.unkept) if (u.seq > lastSeq) lost += u.records;
    this.unkept = this.unkept.filter((u) => u.seq <= lastSeq);
    this.dropped += lost;
    return lost;
  }

  /** Forgets every frame with seq ≤ `seq`. */
  ack(seq: number): void {
    if (this.unkept.length && this.unkept[0].seq <= seq) this.unkept = this.unkept.filter((u) => u.seq > seq);
    while ((this.items.peek()?.frame.seq ?? Infinity) <= seq) this.records -= this.items.shift()!.records;
  }

  /** Takes out the frames `which` picks; counts their records as refused. */
  remove(which: (f: DataFrame) => boolean): { frames: number; records: number } {
    const out = { frames: 0, records: 0 };
    const keep = [...this.items].filter((it) => {
      if (!which(it.frame)) return true;
      out.frames++;
      out.records += it.records;
      return false;
    });
    if (out.frames === 0) return out;
    this.items = new Fifo(keep);
    this.records -= out.records;
    this.refused += out.records;
    return out;
  }

  /** frames with seq > `seq`, oldest first, with their record counts */
  after(seq: number): SpooledFrame[] {
    return [...this.items].filter((it) => it.frame.seq > seq);
  }
}
