/** Counters a zipper keeps per connection and per tag; what `geoflux serve` logs and `stats()` returns. */
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
  bytes: number;
}

export interface ZipperCounters {
  accepted: number;
  rejected: number;
  malformed: number;
  /** Data frames for a tag no function observes */
  unrouted: number;
  /** Data frames written to a tag reserved for the zipper */
  forbidden: number;
  /** frames dropped because a function with no instance had a full waiting queue */
  dropped: number;
  /** frames for a partitioned function that had no partition key, sent round robin instead */
  unkeyed: number;
  /** connections that sent no handshake frame in time */
  handshakeTimeouts: number;
}

export const newConnCounters = (): ConnCounters => ({ framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0, duplicates: 0 });

export const dataBytes = (f: { meta: Uint8Array; payload: Uint8Array }): number => f.meta.length + f.payload.length;
