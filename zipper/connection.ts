import type { DataFrame, HandshakeFrame } from '../codecs/frame-types.ts';
import { Fifo } from '../runtime/fifo.ts';
import type { FrameChannel } from '../transport/index.ts';
import { newConnCounters, type ConnCounters } from './counters.ts';
import type { Delivery, WriterSession } from './delivery.ts';

/** A frame handed to a function instance (or held for one), until the instance acknowledges it. */
export interface Unacked {
  d: Delivery;
  frame: DataFrame;
  fn: string;
  /** instances it was handed to that died holding it */
  failed: number;
  /** why the last of them went */
  why?: string;
}

/** One client's channel as the zipper sees it: its handshake, its writer session, what it holds unacknowledged. */
export class Connection {
  hs: HandshakeFrame | undefined;
  session: WriterSession | undefined;
  readonly counters: ConnCounters = newConnCounters();
  /** writers paused until this connection drains */
  pausedWaits = 0;
  closed = false;
  rejected = false;
  /** it said goodbye before closing: what it still holds it hands on, not died holding */
  leaving = false;
  /** Data frames sent to this function instance, oldest first, until it acks them */
  private readonly unacked = new Fifo<Unacked>();
  private acked = 0;

  constructor(
    readonly id: number,
    readonly ch: FrameChannel,
  ) {}

  get label(): string {
    return this.hs ? `${this.hs.kind} "${this.hs.name}" (${this.ch.remote})` : this.ch.remote;
  }

  get unackedCount(): number {
    return this.unacked.length;
  }

  hand(u: Unacked): void {
    this.unacked.push(u);
  }

  /** An instance's ack counts the frames it has handled on this connection: returns those it now releases. */
  ackUpTo(count: number): Unacked[] {
    const done: Unacked[] = [];
    while (this.acked < count && this.unacked.length) {
      done.push(this.unacked.shift()!);
      this.acked++;
    }
    return done;
  }

  /** What the instance held when it went away, for another instance. */
  takeOrphans(): Unacked[] {
    return this.unacked.takeAll();
  }
}
