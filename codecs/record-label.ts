import { quoted } from './control-characters.ts';
import type { DataFrame } from './frame-types.ts';
import { unpackMeta } from './metadata.ts';
import { decodeRecords } from './records.ts';

/** how a log line names one record: its device (quoted: an id is whatever a source wrote) and time, which the user can find in what the device sent */
export function deviceAt(deviceId: unknown, t: unknown): string {
  const time = typeof t === 'number' && Math.abs(t) <= 8.64e15 ? ` at ${new Date(t).toISOString()}` : '';
  return `${quoted(String(deviceId))}${time}`;
}

/**
 * How a log line names what a frame carries: its one record by device and time (`a fix of v1 at …`), when it
 * has a device, else the count of its records. A record that cannot be read is named as a record.
 */
export function recordsLabel(f: DataFrame, records: number): string {
  if (records !== 1) return `a frame of ${records} records`;
  try {
    const ct = unpackMeta(f.meta).ct;
    const [r] = decodeRecords(ct, f.payload) as ({ deviceId?: unknown; t?: unknown } | null)[];
    if (r?.deviceId !== undefined) return `a ${ct === 'gps' ? 'fix' : 'record'} of ${deviceAt(r.deviceId, r.t)}`;
  } catch {
    // named as a record, as it was before it was read
  }
  return 'a record';
}
