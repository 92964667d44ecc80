import { MessageChannel, parentPort, type MessagePort } from 'node:worker_threads';
import type { DataFrame, Frame } from '../codecs/frame-types.ts';
import { Fifo } from '../runtime/fifo.ts';
import { ChannelCore } from './channel-core.ts';
import type { FrameChannel, Transport } from './types.ts';

/**
 * Frames between threads, for functions and sources that run in worker threads of `geoflux serve`: a
 * MessagePort each way. A Data frame's bytes are copied once to buffers of their own and moved (transfer,
 * not clone: cloning a view would copy its whole underlying buffer, often a 64 KiB read chunk). A port has no
 * flow control, so the receiver says how many frames it has taken (`took`) and the sender's `buffered`
 * counts the rest, which is what the zipper's backpressure watches.
 *
 * Messages cross as lists. Serve's side says what it says in a turn of its event loop as one list: a
 * postMessage cost serve's thread ~84 µs here (the other thread woken for each), 8 % of it with 1,000 sources
 * at a fix a second each, when it was one per frame and one per `took` besides. A worker thread's side posts
 * each message at once: the thread may die in the same turn (a function's crash, a hang cut off), and what it
 * said before, the acknowledgements of records it did handle above all, must not die with it.
 */

type Message = { frame: Frame } | { took: number } | { bye: true; reason?: string };

/** Frames delivered per turn before yielding, so a busy port cannot starve the thread's other work. */
const TURN = 4096;

/** What a side says, posted at once or, `onceATurn`, as one list once the turn is over (a goodbye at once). */
class Outbox {
  private messages: Message[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;

  constructor(
    private readonly port: MessagePort,
    private readonly onceATurn: boolean,
  ) {}

  say(m: Message): void {
    this.messages.push(m);
    if (!this.onceATurn) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  frame(frame: Frame): void {
    if (frame.type !== 'data') return this.say({ frame });
    // copies of their own (the same payload may be on its way to other functions too); new Uint8Array copies,
    // where Buffer#slice would give a view of Node's shared buffer pool
    const meta = new Uint8Array(frame.meta);
    const payload = new Uint8Array(frame.payload);
    this.transfer.push(meta.buffer as ArrayBuffer, payload.buffer as ArrayBuffer);
    this.say({ frame: { ...frame, meta, payload } satisfies DataFrame });
  }

  flush(): void {
    this.scheduled = false;
    if (this.messages.length === 0) return;
    const [messages, transfer] = [this.messages, this.transfer];
    this.messages = [];
    this.transfer = [];
    this.port.postMessage(messages, transfer);
  }
}

/** `onceATurn`: for serve's own side of a thread's channel only, never a worker thread's (see above). */
export function portChannel(port: MessagePort, remote: string, opts: { lowWater?: number; onceATurn?: boolean } = {}): FrameChannel {
  const core = new ChannelCore(opts.lowWater ?? 64);
  const out = new Outbox(port, opts.onceATurn ?? false);
  let sent = 0;
  let takenByPeer = 0;
  let inbox = new Fifo<Frame>();
  let tookSinceReport = 0;
  let paused = false;
  let scheduled = false;
  /** the other side closed gracefully: what it sent before is delivered, then this side closes too */
  let peerDone = false;

  const buffered = () => sent - takenByPeer;

  const deliver = () => {
    scheduled = false;
    let n = 0;
    while (inbox.length && !paused && !core.done) {
      core.handlers!.frame(inbox.shift()!);
      tookSinceReport++;
      if (++n === TURN) break;
    }
    if (!inbox.length && peerDone) return finish();
    if (tookSinceReport > 0 && !core.done) {
      out.say({ took: tookSinceReport });
      tookSinceReport = 0;
    }
    if (inbox.length && !paused && !core.done) schedule();
  };
  const schedule = () => {
    if (scheduled || paused || !core.handlers) return;
    scheduled = true;
    setImmediate(deliver);
  };

  const finish = (err?: Error) => {
    if (core.done) return;
    inbox = new Fifo();
    core.finish(err);
    port.close();
  };

  const heard = (m: Message) => {
    if ('frame' in m) {
      inbox.push(m.frame);
      schedule();
    } else if ('took' in m) {
      takenByPeer += m.took;
      core.checkDrain(buffered());
    } else if (m.reason) {
      finish(new Error(m.reason));
    } else {
      peerDone = true;
      if (!inbox.length) finish();
    }
  };
  port.on('message', (messages: Message[]) => {
    for (const m of messages) heard(m);
  });
  // the thread on the other side is gone (it exited, crashed, or was stopped)
  port.on('close', () => {
    if (!peerDone) finish(new Error(`${remote} closed`));
  });

  return {
    remote,
    transport: 'port',
    start(h) {
      core.start(h);
      schedule();
    },
    send(frame) {
      if (core.done) return;
      sent++;
      out.frame(frame);
    },
    get buffered() {
      return buffered();
    },
    drained: () => core.drained(buffered()),
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      schedule();
    },
    async close() {
      if (core.done) return;
      // what the peer has not taken yet is already in its queue: it is delivered before the goodbye
      out.say({ bye: true });
      out.flush();
      finish();
    },
    abort(err?: Error) {
      if (core.done) return;
      out.say({ bye: true, reason: err?.message });
      out.flush();
      finish(err);
    },
  };
}

/** What the last ack among a side's messages carried besides (AckFrame.counted), if any. */
export function countedIn(said: unknown): unknown {
  const messages = said as Message[];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if ('frame' in m && m.frame.type === 'ack' && m.frame.counted !== undefined) return m.frame.counted;
  }
  return undefined;
}

/** What a worker thread posts to ask the thread that started it for a channel to its zipper. */
export interface DialRequest {
  geoflux: 'dial';
  port: MessagePort;
}

export const isDialRequest = (m: unknown): m is DialRequest => (m as DialRequest)?.geoflux === 'dial';

/**
 * `port://zipper`: from a worker thread of `geoflux serve`, a fresh channel to the zipper of the thread that
 * started it, one per dial (so a function's reconnect works as over any transport).
 */
export const portTransport: Transport = {
  async listen() {
    throw new Error('port:// is dialled from worker threads; the zipper attaches their channels itself');
  },
  async dial(url) {
    if (!parentPort) throw new Error(`${url.href} can only be dialled from a worker thread of geoflux serve`);
    const { port1, port2 } = new MessageChannel();
    parentPort.postMessage({ geoflux: 'dial', port: port2 } satisfies DialRequest, [port2]);
    return portChannel(port1, url.href);
  },
};
