import { pack, unpack } from './msgpack.ts';
import { FrameError } from './frame-error.ts';

/**
 * The metadata map of a Data frame. `sid`, `seq` and `tid` are set by the source that made the data and are
 * carried unchanged through every function, so an alert can be traced back to the fixes behind it.
 */
export interface Metadata {
  /** the originating source's clientId */
  sid?: string;
  /** the originating source's frame sequence number */
  seq?: number;
  /** trace id */
  tid?: string;
  /** payload content type: a GPS batch or a msgpack array of records */
  ct?: ContentType;
  /**
   * set by the zipper on a frame it hands on from an instance that died holding it: the function takes it in
   * a call of its own, not with the frames that came beside it, so that a death in that call blames it alone
   */
  orphan?: true;
  [key: string]: unknown;
}

export type ContentType = 'gps' | 'msgpack';

export const packMeta = (meta: Metadata): Uint8Array => pack(meta);

export function unpackMeta(bytes: Uint8Array): Metadata {
  if (bytes.length === 0) return {};
  let m: unknown;
  try {
    m = unpack(bytes);
  } catch (e) {
    throw new FrameError('bad-field', `metadata is not msgpack: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw new FrameError('bad-field', 'metadata is not a map');
  return m as Metadata;
}
