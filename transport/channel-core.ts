import type { FrameHandlers } from './types.ts';

/** The part every channel shares: hold the handlers, call `closed` exactly once, and wait for drains. */
export class ChannelCore {
  handlers: FrameHandlers | undefined;
  done = false;
  private drainWaiters: Array<() => void> = [];

  constructor(readonly lowWater: number) {}

  start(handlers: FrameHandlers): void {
    if (this.handlers) throw new Error('channel already started');
    this.handlers = handlers;
  }

  finish(err?: Error): void {
    if (this.done) return;
    this.done = true;
    this.releaseDrain();
    this.handlers?.closed(err);
  }

  drained(buffered: number): Promise<void> {
    if (buffered <= this.lowWater || this.done) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** wake drain waiters if the queue is low enough (or the channel is gone) */
  checkDrain(buffered: number): void {
    if (buffered <= this.lowWater || this.done) this.releaseDrain();
  }

  private releaseDrain(): void {
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f();
  }
}
