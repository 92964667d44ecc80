import { pack, unpack } from './msgpack.ts';
import { FrameError } from './frame-error.ts';
import type { Frame, FrameOf } from './frame-types.ts';
import { TlvReader, tlvSize, writeTlvHeader } from './tlv.ts';
import { readVarint, varintSize, writeVarint } from './varint.ts';

/**
 * One encoder and one decoder for every frame type, driven by the field table below. A frame is a TLV whose
 * tag is the frame type and whose value is the frame's fields, themselves TLVs; the outer length is the
 * length prefix on a byte stream.
 */

export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;

type FieldKind = 'str' | 'uint' | 'bytes' | 'strs' | 'pack';
interface FieldSpec {
  tag: number;
  name: string;
  kind: FieldKind;
}
interface FrameSpec {
  code: number;
  fields: FieldSpec[];
}

const f = (tag: number, name: string, kind: FieldKind): FieldSpec => ({ tag, name, kind });

const SPECS: { [K in Frame['type']]: FrameSpec } = {
  handshake: {
    code: 0x31,
    fields: [f(1, 'name', 'str'), f(2, 'kind', 'str'), f(3, 'clientId', 'str'), f(4, 'token', 'str'), f(5, 'observe', 'strs'), f(6, 'version', 'uint')],
  },
  'handshake-ack': { code: 0x32, fields: [f(1, 'zipper', 'str'), f(2, 'tags', 'pack'), f(3, 'lastSeq', 'uint'), f(4, 'maxFrame', 'uint')] },
  rejected: { code: 0x33, fields: [f(1, 'reason', 'str')] },
  data: { code: 0x3f, fields: [f(1, 'tag', 'uint'), f(2, 'seq', 'uint'), f(3, 'from', 'str'), f(4, 'meta', 'bytes'), f(5, 'payload', 'bytes')] },
  goaway: { code: 0x34, fields: [f(1, 'reason', 'str')] },
  ping: { code: 0x35, fields: [f(1, 'id', 'uint')] },
  pong: { code: 0x36, fields: [f(1, 'id', 'uint')] },
  ack: { code: 0x37, fields: [f(1, 'seq', 'uint')] },
};

const BY_CODE = new Map(Object.entries(SPECS).map(([type, spec]) => [spec.code, { type: type as Frame['type'], spec }]));
const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

const defaultOf = (kind: FieldKind): unknown =>
  kind === 'str' ? '' : kind === 'uint' ? 0 : kind === 'bytes' ? EMPTY : kind === 'strs' ? [] : {};

/** Field values turned into bytes before sizing, so each is encoded once. */
function valueBytes(kind: FieldKind, v: unknown): Uint8Array | Uint8Array[] | number {
  switch (kind) {
    case 'str':
      return Buffer.from(String(v ?? ''), 'utf8');
    case 'bytes':
      return (v as Uint8Array | undefined) ?? EMPTY;
    case 'strs':
      return ((v as string[] | undefined) ?? []).map((s) => Buffer.from(s, 'utf8'));
    case 'pack':
      return pack(v ?? {});
    case 'uint': {
      const n = Number(v ?? 0);
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`frame field must be an unsigned integer, got ${v}`);
      return n;
    }
  }
}

export function encodeFrame(frame: Frame): Uint8Array {
  const spec = SPECS[frame.type];
  const values = spec.fields.map((fs) => valueBytes(fs.kind, (frame as unknown as Record<string, unknown>)[fs.name]));
  let body = 0;
  for (const v of values) {
    if (typeof v === 'number') body += tlvSize(varintSize(v));
    else if (Array.isArray(v)) for (const s of v) body += tlvSize(s.length);
    else body += tlvSize(v.length);
  }
  const out = new Uint8Array(tlvSize(body));
  let pos = writeTlvHeader(out, 0, spec.code, body);
  spec.fields.forEach((fs, i) => {
    const v = values[i];
    if (typeof v === 'number') {
      pos = writeVarint(out, writeTlvHeader(out, pos, fs.tag, varintSize(v)), v);
    } else {
      for (const s of Array.isArray(v) ? v : [v]) {
        pos = writeTlvHeader(out, pos, fs.tag, s.length);
        out.set(s, pos);
        pos += s.length;
      }
    }
  });
  return out;
}

/** Type and total length of the frame starting at `buf[0]`, or null when its header is not all there yet. */
export function frameHeader(
  buf: Uint8Array,
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
): { code: number; bodyStart: number; total: number } | null {
  if (buf.length < 1) return null;
  const code = buf[0];
  if (!BY_CODE.has(code)) throw new FrameError('unknown-type', `unknown frame type 0x${code.toString(16).padStart(2, '0')}`);
  const len = readVarint(buf, 1);
  if (!len) return null;
  if (len.value > maxFrameSize) {
    throw new FrameError('too-large', `frame of ${len.value} bytes exceeds the ${maxFrameSize}-byte limit`);
  }
  return { code, bodyStart: len.end, total: len.end + len.value };
}

/** Decodes exactly one whole frame. Byte fields are views into `buf`, not copies. */
export function decodeFrame(buf: Uint8Array, maxFrameSize = DEFAULT_MAX_FRAME_SIZE): Frame {
  const head = frameHeader(buf, maxFrameSize);
  if (!head || head.total > buf.length) throw new FrameError('truncated', `frame is cut short (${buf.length} bytes)`);
  if (head.total < buf.length) throw new FrameError('bad-field', `${buf.length - head.total} stray bytes after the frame`);
  const { type, spec } = BY_CODE.get(head.code)!;
  const frame: Record<string, unknown> = { type };
  for (const fs of spec.fields) frame[fs.name] = defaultOf(fs.kind);
  const r = new TlvReader(buf, head.bodyStart, head.total);
  while (r.next()) {
    const fs = spec.fields.find((x) => x.tag === r.tag);
    if (!fs) continue; // a field from a newer peer: skip it by length
    const v = decodeField(fs, r, buf, type);
    if (fs.kind === 'strs') (frame[fs.name] as string[]).push(v as string);
    else frame[fs.name] = v;
  }
  return frame as unknown as Frame;
}

function decodeField(fs: FieldSpec, r: TlvReader, buf: Uint8Array, type: string): unknown {
  switch (fs.kind) {
    case 'bytes':
      return r.value();
    case 'str':
    case 'strs':
      return utf8.decode(r.value());
    case 'pack':
      try {
        return unpack(r.value());
      } catch (e) {
        throw new FrameError('bad-field', `${type}.${fs.name}: ${(e as Error).message}`);
      }
    case 'uint': {
      const v = readVarint(buf, r.start, r.end);
      if (!v || v.end !== r.end) throw new FrameError('bad-field', `${type}.${fs.name} is not one varint`);
      return v.value;
    }
  }
}

export type { Frame, FrameOf };
