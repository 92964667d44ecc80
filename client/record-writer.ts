import { randomFillSync } from 'node:crypto';
import { assertBatch, checkRecords, looksLikeEpochSeconds, looksLikeFix, tidyBatch } from '../codecs/fix-checks.ts';
import { encodeGpsBatch, isGpsBatch, sliceRows, type GpsBatch } from '../codecs/gps-batch.ts';
import { packMeta, type Metadata } from '../codecs/metadata.ts';
import { pack } from '../codecs/msgpack.ts';
import { encodeRecords, isPlainFix } from '../codecs/records.ts';
import type { ZipperClient } from './client.ts';

/** Where a frame's records came from: carried end to end in the metadata. */
export interface Origin {
  sid: string;
  seq: number;
  tid: string;
}

/**
 * Bytes a frame carries besides its payload, at most: its headers, tag and sequence number, the writer id
 * the zipper stamps on it, and the metadata (source id, sequence number, trace id, content type).
 */
export const FRAME_OVERHEAD = 1024;

/** Thrown by write() for one record that no frame can carry: nothing of that write is queued. */
export class RecordTooLargeError extends RangeError {
  override readonly name = 'RecordTooLargeError';
}

interface Pending {
  tag: number;
  origin: Origin | undefined;
  records: unknown[];
}

/**
 * Turns record-at-a-time writes into batched Data frames: records written in the same turn of the event
 * loop (up to `maxBatch`) share one frame per tag and origin. Small frames are what makes QUIC slow here.
 */
export class RecordWriter {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  /** whether this writer has said its times look like epoch seconds: a writer that sends one sends them all */
  private saidSeconds = false;

  constructor(
    private readonly client: ZipperClient,
    private readonly maxBatch = 4096,
    /** the clock a time in epoch seconds is told by */
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Queues records, tidied as codecs/fix-checks.ts reads them (speed -1 unknown, heading mod 360, lng for
   * lon); returns false when the caller should slow down (spool or connection backed up). A null record
   * throws TypeError, a fix that cannot be used InvalidFixError here, a record too large for any frame RecordTooLargeError,
   * and nothing of that write is queued. Writes larger than a frame go out in as many frames as they need.
   */
  write(tag: string | number, data: unknown, origin?: Origin): boolean {
    const t = this.client.tagNumber(tag);
    if (isGpsBatch(data)) {
      const batch = tidyBatch(data);
      assertBatch(tag, batch);
      this.sayIfSeconds(tag, batch.t.subarray(0, batch.n));
      this.flushKey(keyOf(t, origin));
      let ok = true;
      for (const part of this.fitBatch(batch)) ok = this.emit(t, origin, 'gps', part.bytes, part.n);
      return ok;
    }
    const records = checkRecords(tag, Array.isArray(data) ? data : [data]);
    this.sayIfSeconds(tag, timesOf(records));
    this.assertFits(tag, records);
    const key = keyOf(t, origin);
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { tag: t, origin, records: [] }));
    for (const r of records) p.records.push(r);
    if (p.records.length >= this.maxBatch) this.flushKey(key);
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return this.client.connected && this.client.spool.records < this.client.spool.capacity / 2;
  }

  /** Warns, once per writer, of a time that looks like epoch seconds (looksLikeEpochSeconds): written as ms, it is 1970-01-21. */
  private sayIfSeconds(tag: string | number, times: Iterable<number>): void {
    if (this.saidSeconds) return;
    const now = this.now();
    for (const t of times) {
      if (!looksLikeEpochSeconds(t, now)) continue;
      this.saidSeconds = true;
      const iso = (ms: number) => new Date(ms).toISOString();
      this.client.warnings.warn(
        'epoch-seconds',
        `write(${JSON.stringify(tag)}): t looks like epoch seconds (${t} is ${iso(t * 1000)} in seconds, ${iso(t)} in ms); geoflux takes epoch milliseconds (said once)`,
      );
      return;
    }
  }

  /** the most payload bytes a frame may carry to this zipper */
  private get room(): number {
    return this.client.maxFrameSize - FRAME_OVERHEAD;
  }

  /** A fix always fits (its fields are bounded); anything else is measured, once, here. */
  private assertFits(tag: string | number, records: readonly unknown[]): void {
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      if (isPlainFix(r)) continue;
      const bytes = pack([r]).length;
      if (bytes > this.room) {
        throw new RecordTooLargeError(`write(${JSON.stringify(tag)}): ${records.length > 1 ? `record ${i} ` : 'the record '}takes ${bytes} bytes, more than a frame to this zipper carries (${this.room} bytes of its ${this.client.maxFrameSize}-byte limit)`);
      }
    }
  }

  /** a batch as columns in as many frames as it needs */
  private fitBatch(b: GpsBatch): { bytes: Uint8Array; n: number }[] {
    const bytes = encodeGpsBatch(b);
    if (bytes.length <= this.room || b.n <= 1) return [{ bytes, n: b.n }];
    const half = b.n >> 1;
    return [...this.fitBatch(sliceRows(b, 0, half)), ...this.fitBatch(sliceRows(b, half, b.n))];
  }

  flush(): void {
    this.scheduled = false;
    for (const key of [...this.pending.keys()]) this.flushKey(key);
  }

  private flushKey(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    for (let i = 0; i < p.records.length; i += this.maxBatch) this.emitRecords(p.tag, p.origin, p.records.slice(i, i + this.maxBatch));
  }

  /** records in one frame, or in halves, and so on, until each frame fits */
  private emitRecords(tag: number, origin: Origin | undefined, records: unknown[]): void {
    const { ct, payload } = encodeRecords(records);
    if (payload.length <= this.room || records.length <= 1) return void this.emit(tag, origin, ct, payload, records.length);
    const half = records.length >> 1;
    this.emitRecords(tag, origin, records.slice(0, half));
    this.emitRecords(tag, origin, records.slice(half));
  }

  private emit(tag: number, origin: Origin | undefined, ct: Metadata['ct'], payload: Uint8Array, n: number): boolean {
    const o = origin ?? { sid: this.client.clientId, seq: this.client.nextSeq, tid: traceId() };
    return this.client.writeFrame(tag, packMeta({ sid: o.sid, seq: o.seq, tid: o.tid, ct }), payload, n);
  }
}

function* timesOf(records: readonly unknown[]): Iterable<number> {
  for (const r of records) if (looksLikeFix(r)) yield r.t;
}

const keyOf = (tag: number, o: Origin | undefined) => (o ? `${tag}/${o.sid}/${o.seq}` : `${tag}`);

// a trace id per frame, from random bytes drawn 4 KiB at a time (a system call per frame showed in profiles)
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function traceId(): string {
  if (poolAt === pool.length) (randomFillSync(pool), (poolAt = 0));
  poolAt += 8;
  return pool.toString('hex', poolAt - 8, poolAt);
}
