import { batchFromRecords, decodeGpsBatch, encodeGpsBatch, recordsOf } from './gps-batch.ts';
import { isGpsRecord, type GpsRecord } from './gps-record.ts';
import { FrameError } from './frame-error.ts';
import type { ContentType } from './metadata.ts';
import { pack, unpack } from './msgpack.ts';

const FIX_FIELDS = new Set(['deviceId', 't', 'lon', 'lat', 'speed', 'heading', 'accuracy']);

/** a fix and nothing more: an event that also has deviceId/t/lon/lat (a matched fix, a traversal) keeps its other fields */
export const isPlainFix = (r: unknown): r is GpsRecord => {
  if (!isGpsRecord(r)) return false;
  for (const k in r) if (!FIX_FIELDS.has(k)) return false;
  return true;
};

/**
 * Records in a Data payload: a columnar GPS batch when every record is a plain fix (so kernels and the
 * zipper's partitioner can read columns), a msgpack array otherwise (alerts, matched edges, anything users emit).
 */
export function encodeRecords(records: readonly unknown[]): { ct: ContentType; payload: Uint8Array } {
  if (records.length > 0 && records.every(isPlainFix)) return { ct: 'gps', payload: encodeGpsBatch(batchFromRecords(records)) };
  return { ct: 'msgpack', payload: pack(records) };
}

export function decodeRecords(ct: ContentType | undefined, payload: Uint8Array): unknown[] {
  if (ct === 'gps') return recordsOf(decodeGpsBatch(payload));
  let v: unknown;
  try {
    v = unpack(payload);
  } catch (e) {
    throw new FrameError('bad-field', `payload is not msgpack: ${(e as Error).message}`);
  }
  return Array.isArray(v) ? v : [v];
}
