import { decodeFrame, DEFAULT_MAX_FRAME_SIZE, frameHeader } from './frame.ts';
import type { Frame } from './frame-types.ts';

/** A frame header is one type byte and at most eight varint bytes. */
const MAX_HEADER = 9;

/**
 * Cuts a byte stream into frames. Frames that sit inside one chunk come out as views of it; a frame split
 * across chunks is copied once, when all its bytes are there. A header announcing more than `maxFrameSize`
 * throws before anything is allocated for it.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private need = 0;

  constructor(private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE) {}

  /** bytes held waiting for the rest of a frame */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Frame[] = [];
    for (;;) {
      if (this.need === 0) {
        if (this.chunks[0].length < MAX_HEADER && this.chunks.length > 1) this.merge(Math.min(MAX_HEADER, this.buffered));
        const head = frameHeader(this.chunks[0], this.maxFrameSize);
        if (!head) break;
        this.need = head.total;
      }
      if (this.buffered < this.need) break;
      out.push(decodeFrame(this.take(this.need), this.maxFrameSize));
      this.need = 0;
      if (this.buffered === 0) break;
    }
    return out;
  }

  /** Joins leading chunks until the first holds at least `n` bytes. */
  private merge(n: number): void {
    let len = 0;
    let k = 0;
    while (len < n) len += this.chunks[k++].length;
    const joined = new Uint8Array(len);
    let pos = 0;
    for (const c of this.chunks.splice(0, k, joined)) {
      joined.set(c, pos);
      pos += c.length;
    }
  }

  private take(n: number): Uint8Array {
    if (this.chunks[0].length < n) this.merge(n);
    const first = this.chunks[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
