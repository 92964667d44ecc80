/** Counters a zipper keeps per connection and per tag; what `geoflux serve` logs and its metrics export. */
export interface ConnCounters {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
  /** frames received again after a resend, dropped */
  duplicates: number;
}

export interface TagCounters {
  frames: number;
  records: number;
}

export interface ZipperCounters {
  accepted: number;
  rejected: number;
  malformed: number;
  /** Data frames for a tag no function observes */
  unrouted: number;
  /** Data frames written to a tag reserved for the zipper */
  forbidden: number;
  /** frames dropped for want of an instance: a function with none had a full waiting queue, or was removed (`removed`) */
  dropped: number;
  /** of `dropped`, those whose function was removed (an undeploy) while they waited for it or an instance held them */
  removed: number;
  /** frames for a partitioned function that had no partition key, sent round robin instead */
  unkeyed: number;
  /** frames an instance died holding, handed on again */
  redelivered: number;
  /** frames dropped after the instances they were handed to died holding them (after splitting, mostly one record each) */
  poison: number;
  /** records in those frames */
  poisonRecords: number;
  /** connections that sent no handshake frame in time */
  handshakeTimeouts: number;
  /** Data frames received again after a writer's resend, dropped (they had arrived before) */
  duplicates: number;
  /** frames in flight when the zipper closed that no writer keeps: written in serve's own threads or process, which close with it */
  lostAtClose: number;
}

export const newConnCounters = (): ConnCounters => ({ framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, duplicates: 0 });

export const dataBytes = (f: { meta: Uint8Array; payload: Uint8Array }): number => f.meta.length + f.payload.length;

/**
 * Records in a Data payload, read from its first bytes alone: a GPS batch's row count, or the length of a
 * msgpack array; anything else is one record.
 */
export function recordCount(p: Uint8Array): number {
  if (p.length >= 8 && p[0] === 0x47 && p[1] === 0x42) return (p[4] | (p[5] << 8) | (p[6] << 16) | (p[7] << 24)) >>> 0;
  const b = p[0];
  if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
  if (b === 0xdc && p.length >= 3) return (p[1] << 8) | p[2];
  if (b === 0xdd && p.length >= 5) return ((p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4]) >>> 0;
  return 1;
}
