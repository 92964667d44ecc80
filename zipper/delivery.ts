import { Fifo } from '../runtime/fifo.ts';

/**
 * Who has a frame. A writer (source or function) keeps each Data frame in its spool until the zipper acks
 * it; the zipper acks a frame only when every function instance it went to has acked it in turn. So a frame
 * is always held by someone until it is handled, and a crash anywhere is repaired by a resend.
 */

export class Delivery {
  /** targets (instance sends, or waits for an absent function) still holding this frame */
  pending = 0;
  constructor(
    readonly session: WriterSession,
    readonly seq: number,
  ) {}
}

/** A writer's state, keyed by its clientId and kept across its reconnects. */
export class WriterSession {
  /** highest sequence number received: anything at or below it is a duplicate */
  lastSeq = 0;
  /** highest sequence number acknowledged to the writer */
  acked = 0;
  /** called when `acked` moves; the zipper sends the Ack frame */
  onAck: ((seq: number) => void) | undefined;
  /** when the writer's last connection went away (ms), or 0 while connected */
  idleSince = 0;
  /** it writes from serve's own threads or process (port://, memory://): what it has in flight when the zipper closes is lost with it */
  inProcess = false;
  private readonly inflight = new Fifo<Delivery>();

  constructor(readonly clientId: string) {}

  get inflightCount(): number {
    return this.inflight.length;
  }

  begin(seq: number): Delivery {
    this.lastSeq = seq;
    const d = new Delivery(this, seq);
    this.inflight.push(d);
    return d;
  }

  settle(d: Delivery): void {
    if (--d.pending === 0) this.advance();
  }

  /** Acks the longest prefix of settled frames. Acks are cumulative, so one settled late holds back the rest. */
  advance(): void {
    const before = this.acked;
    // settled frames are let go of at once: a writer's session held every Delivery it ever had until it had
    // sent 1,024 frames (the soak's heap: 61k of them after 300 sources at one frame a second had closed)
    while ((this.inflight.peek()?.pending ?? 1) <= 0) this.acked = this.inflight.shift()!.seq;
    if (this.acked === before) return;
    this.onAck?.(this.acked);
  }
}
