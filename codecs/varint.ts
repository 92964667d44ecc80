import { FrameError } from './frame-error.ts';

/** Unsigned LEB128, up to Number.MAX_SAFE_INTEGER: lengths, sequence numbers, tags. */

export function varintSize(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    buf[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  buf[pos++] = value;
  return pos;
}

/** Eight bytes carry 56 bits, enough for any safe integer; more means garbage, not a bigger number. */
const MAX_VARINT_BYTES = 8;

export interface VarintRead {
  value: number;
  /** position after the varint */
  end: number;
}

/** Reads a varint at `pos`; returns null when the bytes end before it does. */
export function readVarint(buf: Uint8Array, pos: number, limit = buf.length): VarintRead | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= limit) return null;
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (value > Number.MAX_SAFE_INTEGER) break;
      return { value, end: pos };
    }
    scale *= 128;
  }
  throw new FrameError('bad-varint', `varint longer than ${MAX_VARINT_BYTES} bytes or above 2^53`);
}
