import { Fifo } from '../runtime/fifo.ts';
import type { FrameChannel } from '../transport/types.ts';

/** A received frame, from its arrival until the zipper is told it was handled. */
export interface Handling {
  readonly ch: FrameChannel;
  done: boolean;
  /** runs when the frame is released, just before its ack: what it made goes out first */
  release?: () => void;
}

/**
 * A function acks the frames of a channel by count, in the order they came (the zipper's ack is cumulative),
 * but finishes them in any order: a slow record holds up its frame, not the frames behind it. So each frame
 * is released (its outputs written, its ack sent) once it and every frame before it are finished.
 *
 * Acks go out at once, not gathered for later: a thread that dies right after a frame is released must not
 * take that frame's ack with it, or the zipper would blame and redeliver a frame that was handled.
 */
export class OrderedAcks {
  private readonly queue = new Fifo<Handling>();
  private readonly counts = new WeakMap<FrameChannel, number>();

  /** `counted`: what each ack carries besides (AckFrame.counted), taken once the frame is released */
  constructor(private readonly counted?: () => unknown) {}

  /** frames received and not yet released */
  get pending(): number {
    return this.queue.length;
  }

  begin(ch: FrameChannel): Handling {
    const h: Handling = { ch, done: false };
    this.queue.push(h);
    return h;
  }

  /** A frame that needs no handling (a duplicate, an undecodable one): released in its turn. */
  skip(ch: FrameChannel): void {
    this.finish(this.begin(ch));
  }

  /** Several at once (the frames of one batch call): the counters go with the last ack of the run only. */
  finish(...hs: Handling[]): void {
    for (const h of hs) h.done = true;
    while (this.queue.peek()?.done) {
      const next = this.queue.shift()!;
      next.release?.();
      const n = (this.counts.get(next.ch) ?? 0) + 1;
      this.counts.set(next.ch, n);
      // what comes next in this same turn carries them (a crash cannot come between), unless on another channel
      const after = this.queue.peek();
      const last = !after?.done || after.ch !== next.ch;
      next.ch.send(this.counted && last ? { type: 'ack', seq: n, counted: this.counted() } : { type: 'ack', seq: n });
    }
  }
}
