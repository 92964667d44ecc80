import { crc16Ibm } from './crc16-ibm.ts';

/**
 * Teltonika's AVL data packet, Codec 8 (0x08) and Codec 8 Extended (0x8E), as the public protocol document
 * lays it out (wiki.teltonika-gps.com, "Teltonika Data Sending Protocols"): 4 zero bytes, the data length,
 * then codec id, record count, the records, the count again, and a CRC-16/IBM of codec id … count in the
 * last 2 of 4 bytes. A record: time (ms, 8 bytes), priority, GPS element (lon, lat as int32 × 1e-7,
 * altitude, angle, satellites, speed km/h) and IO elements, which are skipped (their ids and counts are 1
 * byte in Codec 8, 2 in 8E, and 8E adds variable-length ones).
 */

export interface AvlRecord {
  /** epoch ms */
  t: number;
  priority: number;
  lon: number;
  lat: number;
  altitude: number;
  /** degrees from north */
  angle: number;
  satellites: number;
  /** km/h */
  speed: number;
}

export const CODEC_8 = 0x08;
export const CODEC_8E = 0x8e;

/** the bytes around a packet's data: preamble and length before, CRC after */
export const PACKET_HEAD = 8;
export const PACKET_TAIL = 4;

export type DecodedPacket = { codec: number; records: AvlRecord[] } | { error: string; count?: number };

/** Bytes a whole packet takes, from its first 8 (undefined until they are there); throws for a packet that does not start with the preamble. */
export function packetLength(buf: Buffer): number | undefined {
  if (buf.length < PACKET_HEAD) return undefined;
  if (buf.readUInt32BE(0) !== 0) throw new Error('an AVL packet starts with 4 zero bytes');
  return PACKET_HEAD + buf.readUInt32BE(4) + PACKET_TAIL;
}

/** Decodes one whole packet (as `packetLength` measured it). */
export function decodePacket(p: Buffer): DecodedPacket {
  const end = p.length - PACKET_TAIL;
  if (end <= PACKET_HEAD + 2) return { error: 'a packet too short for a codec id and a record count' };
  const crc = p.readUInt32BE(end);
  const want = crc16Ibm(p, PACKET_HEAD, end);
  if (crc !== want) return { error: `CRC ${crc.toString(16).padStart(8, '0')} is not the data's (${want.toString(16).padStart(4, '0')})` };
  const codec = p[PACKET_HEAD];
  const count = p[PACKET_HEAD + 1];
  if (codec !== CODEC_8 && codec !== CODEC_8E) return { error: `codec 0x${codec.toString(16)} is not Codec 8 (0x08) or 8 Extended (0x8e)`, count };
  if (p[end - 1] !== count) return { error: `the record counts differ (${count} before the records, ${p[end - 1]} after)`, count };
  const records: AvlRecord[] = [];
  let at = PACKET_HEAD + 2;
  try {
    for (let i = 0; i < count; i++) {
      records.push({
        t: Number(p.readBigUInt64BE(at)),
        priority: p[at + 8],
        lon: p.readInt32BE(at + 9) / 1e7,
        lat: p.readInt32BE(at + 13) / 1e7,
        altitude: p.readInt16BE(at + 17),
        angle: p.readUInt16BE(at + 19),
        satellites: p[at + 21],
        speed: p.readUInt16BE(at + 22),
      });
      at = skipIo(p, at + 24, codec === CODEC_8E);
    }
  } catch {
    return { error: `record ${records.length + 1} of ${count} runs past the packet's end`, count };
  }
  if (at !== end - 1) return { error: `${end - 1 - at} bytes after the records`, count };
  return { codec, records };
}

/** where a record's IO elements end; throws RangeError past the buffer */
function skipIo(p: Buffer, at: number, extended: boolean): number {
  const n = (o: number) => (extended ? p.readUInt16BE(o) : p.readUInt8(o));
  const w = extended ? 2 : 1;
  at += 2 * w; // event IO id, total count
  for (const size of [1, 2, 4, 8]) {
    const k = n(at);
    at += w + k * (w + size);
  }
  if (extended) {
    const k = n(at);
    at += 2;
    for (let i = 0; i < k; i++) at += 2 + 2 + p.readUInt16BE(at + 2);
  }
  if (at > p.length) throw new RangeError('past the end');
  return at;
}
