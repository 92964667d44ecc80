import type { Frame } from '../codecs/frame-types.ts';
import { Fifo } from '../runtime/fifo.ts';
import { ChannelCore } from './channel-core.ts';
import { newListenerStats, type FrameChannel, type Listener, type Transport } from './types.ts';

/**
 * In-process channels for functions hosted by the zipper (`host: local`). Frames are handed over as objects:
 * nothing is serialised and payload buffers are passed, not copied.
 */

/** Frames delivered per turn before yielding to I/O, so a busy pair cannot starve sockets and timers. */
const TURN = 4096;

class MemoryEnd implements FrameChannel {
  readonly transport = 'memory' as const;
  peer!: MemoryEnd;
  private readonly inbox = new Fifo<Frame>();
  private scheduled = false;
  private paused = false;
  private closing = false;
  private readonly core: ChannelCore;

  constructor(
    readonly remote: string,
    lowWater: number,
  ) {
    this.core = new ChannelCore(lowWater);
  }

  start(h: Parameters<FrameChannel['start']>[0]): void {
    this.core.start(h);
    this.schedule();
  }

  send(frame: Frame): void {
    if (this.core.done || this.closing) return;
    this.peer.receive(frame);
  }

  /** frames this end sent that the peer has not taken yet */
  get buffered(): number {
    return this.peer.inbox.length;
  }

  drained(): Promise<void> {
    return this.core.drained(this.buffered);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  async close(): Promise<void> {
    if (this.core.done) return;
    this.closing = true;
    this.peer.closing = true;
    await this.peer.drainedInbox();
    this.peer.core.finish();
    this.core.finish();
  }

  abort(err?: Error): void {
    this.core.finish(err);
    this.peer.core.finish(err);
  }

  private receive(frame: Frame): void {
    if (this.core.done) return;
    this.inbox.push(frame);
    this.schedule();
  }

  private drainedInbox(): Promise<void> {
    if (!this.inbox.length || this.core.done) return Promise.resolve();
    return new Promise((r) => setImmediate(() => void this.drainedInbox().then(r)));
  }

  private schedule(): void {
    if (this.scheduled || this.paused || !this.core.handlers) return;
    this.scheduled = true;
    queueMicrotask(() => this.deliver());
  }

  private deliver(): void {
    this.scheduled = false;
    const h = this.core.handlers!;
    let n = 0;
    while (this.inbox.length && !this.paused && !this.core.done) {
      h.frame(this.inbox.shift()!);
      if (++n === TURN && this.inbox.length) {
        this.scheduled = true;
        setImmediate(() => this.deliver());
        break;
      }
    }
    this.peer.core.checkDrain(this.peer.buffered);
  }
}

/** Two connected ends. */
export function memoryPair(names: [string, string] = ['memory://a', 'memory://b'], lowWater = 64): [FrameChannel, FrameChannel] {
  const a = new MemoryEnd(names[1], lowWater);
  const b = new MemoryEnd(names[0], lowWater);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const listeners = new Map<string, (ch: FrameChannel) => void>();
let dialed = 0;

/** `memory://name`: a listener in this process that dialers reach by name. */
export const memoryTransport: Transport = {
  async listen(url, _opts, onChannel): Promise<Listener> {
    const key = url.host + url.pathname;
    if (listeners.has(key)) throw new Error(`${url.href} is already listening in this process`);
    listeners.set(key, onChannel);
    return {
      url: url.href,
      transport: 'memory',
      detail: 'in-process, zero-copy',
      // nothing here times out: an in-process peer cannot vanish without this process
      stats: newListenerStats,
      async close() {
        listeners.delete(key);
      },
    };
  },
  async dial(url) {
    const onChannel = listeners.get(url.host + url.pathname);
    if (!onChannel) throw new Error(`nothing listens on ${url.href} in this process`);
    const [client, server] = memoryPair([`memory://client-${++dialed}`, url.href]);
    onChannel(server);
    return client;
  },
};
