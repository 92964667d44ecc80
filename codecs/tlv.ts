import { FrameError } from './frame-error.ts';
import { readVarint, varintSize, writeVarint } from './varint.ts';

/**
 * Y3-style TLV: a 1-byte tag, a varint length, the value. A reader walks fields by tag and only decodes the
 * ones asked for; the rest are skipped by length, so a router never pays for a payload it forwards.
 */

export const tlvSize = (valueLength: number): number => 1 + varintSize(valueLength) + valueLength;

/** Writes a field header; returns the position where its value goes. */
export function writeTlvHeader(buf: Uint8Array, pos: number, tag: number, valueLength: number): number {
  buf[pos] = tag;
  return writeVarint(buf, pos + 1, valueLength);
}

/** A cursor over consecutive TLV fields in `buf[start, end)`. */
export class TlvReader {
  tag = -1;
  /** bounds of the current field's value */
  start = 0;
  end = 0;
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly limit = buf.length,
  ) {
    this.pos = start;
  }

  /** Advances to the next field; false at the end. Throws FrameError if a field runs past the limit. */
  next(): boolean {
    if (this.pos >= this.limit) return false;
    this.tag = this.buf[this.pos];
    const len = readVarint(this.buf, this.pos + 1, this.limit);
    if (!len || len.end + len.value > this.limit) {
      throw new FrameError('truncated', `field 0x${this.tag.toString(16)} runs past the end of its frame`);
    }
    this.start = len.end;
    this.end = len.end + len.value;
    this.pos = this.end;
    return true;
  }

  /** the current value, without copying */
  value(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }
}
