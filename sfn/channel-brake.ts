import type { FrameChannel } from '../transport/types.ts';

/**
 * Backpressure by count: past `window` units in hand, the channel that brought more is paused; once the
 * count is down to half the window, every paused channel resumes. The zipper and the sources behind a
 * paused channel feel it as a full window, so a slow function makes them wait instead of filling memory.
 */
export class ChannelBrake {
  private readonly paused = new Set<FrameChannel>();

  constructor(private readonly window: number) {}

  /** `inHand` units are held now, the last of them brought by `ch` */
  took(inHand: number, ch: FrameChannel): void {
    if (inHand > this.window && !this.paused.has(ch)) {
      this.paused.add(ch);
      ch.pause();
    }
  }

  /** `inHand` units are held now that some were let go */
  let(inHand: number): void {
    if (this.paused.size > 0 && inHand <= this.window / 2) {
      for (const ch of this.paused) ch.resume();
      this.paused.clear();
    }
  }
}
