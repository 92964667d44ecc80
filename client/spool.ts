import type { DataFrame } from '../codecs/frame-types.ts';

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
  private items: SpooledFrame[] = [];
  private head = 0;
  records = 0;
  /** records dropped because the spool was full */
  dropped = 0;
  /** records given up because the zipper refused their frames (too large), never to be resent */
  refused = 0;

  constructor(readonly capacity: number) {}

  get frames(): number {
    return this.items.length - this.head;
  }

  /** Adds a frame; returns how many records had to be dropped to make room. */
  push(item: SpooledFrame): number {
    this.items.push(item);
    this.records += item.records;
    let dropped = 0;
    while (this.records > this.capacity && this.frames > 1) {
      const old = this.items[this.head++];
      this.records -= old.records;
      dropped += old.records;
    }
    this.dropped += dropped;
    this.compact();
    return dropped;
  }

  /** Forgets every frame with seq ≤ `seq`. */
  ack(seq: number): void {
    while (this.head < this.items.length && this.items[this.head].frame.seq <= seq) this.records -= this.items[this.head++].records;
    this.compact();
  }

  /** Takes out the frames `which` picks; counts their records as refused. */
  remove(which: (f: DataFrame) => boolean): { frames: number; records: number } {
    const out = { frames: 0, records: 0 };
    const keep = this.items.slice(this.head).filter((it) => {
      if (!which(it.frame)) return true;
      out.frames++;
      out.records += it.records;
      return false;
    });
    if (out.frames === 0) return out;
    this.items = keep;
    this.head = 0;
    this.records -= out.records;
    this.refused += out.records;
    return out;
  }

  /** frames with seq > `seq`, oldest first */
  after(seq: number): DataFrame[] {
    const out: DataFrame[] = [];
    for (let i = this.head; i < this.items.length; i++) if (this.items[i].frame.seq > seq) out.push(this.items[i].frame);
    return out;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    } else if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
  }
}
