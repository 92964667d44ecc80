import { Packr } from 'msgpackr';

/**
 * Plain msgpack (no msgpackr record extension) so any msgpack library on the other end can read metadata
 * and generic payloads.
 */
const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number' });

export const pack = (value: unknown): Uint8Array => packr.pack(value);
export const unpack = (bytes: Uint8Array): unknown => packr.unpack(bytes);
