import { randomFillSync } from 'node:crypto';
import { assertBatch, assertFixes } from '../codecs/fix-checks.ts';
import { encodeGpsBatch, isGpsBatch } from '../codecs/gps-batch.ts';
import { packMeta, type Metadata } from '../codecs/metadata.ts';
import { encodeRecords } from '../codecs/records.ts';
import type { ZipperClient } from './client.ts';

/** Where a frame's records came from: carried end to end in the metadata. */
export interface Origin {
  sid: string;
  seq: number;
  tid: string;
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

  constructor(
    private readonly client: ZipperClient,
    private readonly maxBatch = 4096,
  ) {}

  /**
   * Queues records; returns false when the caller should slow down (spool or connection backed up). A fix
   * that cannot be used throws InvalidFixError here, and nothing of that write is queued.
   */
  write(tag: string | number, data: unknown, origin?: Origin): boolean {
    const t = this.client.tagNumber(tag);
    if (isGpsBatch(data)) {
      assertBatch(tag, data);
      this.flushKey(keyOf(t, origin));
      return this.emit(t, origin, 'gps', encodeGpsBatch(data), data.n);
    }
    assertFixes(tag, Array.isArray(data) ? data : [data]);
    const key = keyOf(t, origin);
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { tag: t, origin, records: [] }));
    if (Array.isArray(data)) for (const r of data) p.records.push(r);
    else p.records.push(data);
    if (p.records.length >= this.maxBatch) this.flushKey(key);
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return this.client.connected && this.client.spool.records < this.client.spool.capacity / 2;
  }

  flush(): void {
    this.scheduled = false;
    for (const key of [...this.pending.keys()]) this.flushKey(key);
  }

  private flushKey(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.pending.delete(key);
    if (p.records.length === 0) return;
    const { ct, payload } = encodeRecords(p.records);
    this.emit(p.tag, p.origin, ct, payload, p.records.length);
  }

  private emit(tag: number, origin: Origin | undefined, ct: Metadata['ct'], payload: Uint8Array, n: number): boolean {
    const o = origin ?? { sid: this.client.clientId, seq: this.client.nextSeq, tid: traceId() };
    return this.client.writeFrame(tag, packMeta({ sid: o.sid, seq: o.seq, tid: o.tid, ct }), payload, n);
  }
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
