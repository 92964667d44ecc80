import { Subject, type Observable, type Subscription } from 'rxjs';
import { looksLikeFix } from '../codecs/fix-checks.ts';
import type { DataFrame } from '../codecs/frame-types.ts';
import { batchFromRecords, concatBatches, decodeGpsBatch, type GpsBatch } from '../codecs/gps-batch.ts';
import { unpackMeta, type Metadata } from '../codecs/metadata.ts';
import { decodeRecords } from '../codecs/records.ts';
import { ZipperClient, type ClientOptions } from '../client/client.ts';
import { RecordWriter, type Origin } from '../client/record-writer.ts';
import type { FrameChannel } from '../transport/types.ts';

export interface StreamFunctionOptions extends ClientOptions {
  /** tag names this function reads */
  observe: string[];
  /** runs once before the function connects (load models, open files) */
  init?: () => void | Promise<void>;
  /** called for each error a handler throws; the record is skipped and the stream goes on */
  onError?: (err: Error, record: unknown) => void;
  maxBatch?: number;
}

export interface HandleOptions {
  /** the tag outputs are written to; with several tags, outputs are `[tagName, value]` pairs */
  emit?: string | string[];
}

/**
 * A function that takes fixes by the batch, as columns (`handleBatches`): what a kernel wants, with no
 * object per fix on the way from the frame to it.
 */
export interface BatchHandler<R = unknown> {
  /** the fixes that have arrived since the last call, as one batch; what it returns is emitted */
  process(batch: GpsBatch): readonly R[] | Promise<readonly R[]>;
  /** what the handler still holds when the function closes (a window in progress) */
  flush?(): readonly R[] | Promise<readonly R[]>;
}

export interface BatchHandleOptions extends HandleOptions {
  /** most fixes in one call (default 4096) */
  maxRows?: number;
  /** ms to wait for more fixes when fewer than maxRows are there (default 0: take what has come) */
  maxWait?: number;
}

export interface StreamFunctionStats {
  connected: boolean;
  reconnects: number;
  /** records handed to the handler */
  received: number;
  /** frames received twice (after a resend) and skipped */
  duplicates: number;
  /** records whose handling threw, or frames that could not be decoded */
  errors: number;
  emitted: number;
}

export type Handler<T = any, R = any> = (in$: Observable<T>) => Observable<R>;

export interface StreamFunction {
  readonly clientId: string;
  /** records one at a time, as objects, through an RxJS handler */
  handle<T = any, R = any>(fn: Handler<T, R>, opts?: HandleOptions): void;
  /** fixes by the batch, as columns; a frame is acknowledged once the call that took it has returned */
  handleBatches<R = unknown>(h: BatchHandler<R>, opts?: BatchHandleOptions): void;
  stats(): StreamFunctionStats;
  close(): Promise<void>;
}

interface Received {
  f: DataFrame;
  ch: FrameChannel;
  meta: Metadata;
}

/**
 * Connects a stream function. Records of the observed tags arrive on an RxJS Observable (or, for a batch
 * handler, as columns); what the handler emits is written back to the zipper under the `emit` tag, carrying
 * the metadata (source id, sequence number, trace id) of the input it was made from.
 */
export async function connectStreamFunction(opts: StreamFunctionOptions): Promise<StreamFunction> {
  await opts.init?.();
  const stats: StreamFunctionStats = { connected: false, reconnects: 0, received: 0, duplicates: 0, errors: 0, emitted: 0 };
  const lastSeqFrom = new Map<string, number>();
  const handledOn = new WeakMap<FrameChannel, { count: number; queued: boolean }>();
  let held: [DataFrame, FrameChannel][] | null = [];
  let deliver: (r: Received) => void = () => {};
  let lastOrigin: Origin | undefined;

  const ack = (ch: FrameChannel) => {
    const h = handledOn.get(ch) ?? { count: 0, queued: false };
    handledOn.set(ch, h);
    h.count++;
    if (h.queued) return;
    h.queued = true;
    setImmediate(() => {
      h.queued = false;
      ch.send({ type: 'ack', seq: h.count });
    });
  };

  const originOf = (r: Received): Origin => ({ sid: r.meta.sid ?? r.f.from, seq: r.meta.seq ?? r.f.seq, tid: r.meta.tid ?? '' });

  const onData = (f: DataFrame, ch: FrameChannel) => {
    if (held) return void held.push([f, ch]);
    if (f.seq <= (lastSeqFrom.get(f.from) ?? 0)) {
      stats.duplicates++;
      return ack(ch);
    }
    lastSeqFrom.set(f.from, f.seq);
    let meta: Metadata;
    try {
      meta = unpackMeta(f.meta);
    } catch (e) {
      return undecodable(f, ch, e as Error);
    }
    deliver({ f, ch, meta });
  };

  const undecodable = (f: DataFrame, ch: FrameChannel, e: Error) => {
    stats.errors++;
    client.warnings.warn('undecodable', `skipped an undecodable frame from ${f.from}: ${e.message}`);
    ack(ch);
  };

  const client = new ZipperClient('sfn', opts, opts.observe, onData);
  const writer = new RecordWriter(client, opts.maxBatch);
  await client.connect();
  let sub: Subscription | undefined;
  let finish: () => Promise<void> = async () => {};

  const emitter = (emit: string | string[] | undefined) => {
    const tags = emit === undefined ? [] : Array.isArray(emit) ? emit : [emit];
    return (v: unknown, origin: Origin | undefined) => {
      if (tags.length === 0) return;
      const [tag, value] = tags.length > 1 ? (v as [string, unknown]) : [tags[0], v];
      stats.emitted++;
      writer.write(tag, value, origin);
    };
  };

  const started = (how: string) => {
    if (held === null) throw new Error(`${how}() was called after this function's handler was set`);
    const backlog = held;
    held = null;
    for (const [f, ch] of backlog) onData(f, ch);
  };

  return {
    clientId: client.clientId,
    handle(fn, hopts = {}) {
      const input = new Subject<unknown>();
      const out = emitter(hopts.emit);
      let current: Origin | undefined;
      let currentRecord: unknown;
      deliver = (r) => {
        let records: unknown[];
        try {
          records = decodeRecords(r.meta.ct, r.f.payload);
        } catch (e) {
          return undecodable(r.f, r.ch, e as Error);
        }
        current = lastOrigin = originOf(r);
        for (const rec of records) {
          currentRecord = rec;
          stats.received++;
          input.next(rec);
        }
        current = undefined;
        ack(r.ch);
      };
      const subscribe = (): Subscription => {
        const receivedBefore = stats.received;
        return fn(input.asObservable() as Observable<never>).subscribe({
          next: (v) => out(v, current ?? lastOrigin),
          error: (e: Error) => {
            stats.errors++;
            // an error before any record reached the handler is a start-up failure: resubscribing would repeat it forever
            if (stats.received === receivedBefore) {
              // leave, so the zipper holds this function's records (or gives them to another instance)
              client.log.error(`handler failed to start: ${e.message}; disconnecting this instance`);
              void client.close();
              return;
            }
            if (opts.onError) opts.onError(e, currentRecord);
            else client.warnings.warn('handler', `handler error, record skipped: ${e.message}`);
            sub = subscribe();
          },
        });
      };
      sub = subscribe();
      finish = async () => sub?.unsubscribe();
      started('handle');
    },

    handleBatches(h, hopts = {}) {
      const out = emitter(hopts.emit);
      const maxRows = hopts.maxRows ?? 4096;
      const queue: { r: Received; batch: GpsBatch }[] = [];
      let queuedRows = 0;
      let running: Promise<void> | undefined;
      const emitAll = (events: readonly unknown[], origin: Origin | undefined) => {
        for (const e of events) out(e, origin);
      };
      const call = async (f: () => readonly unknown[] | Promise<readonly unknown[]>, rows: number): Promise<readonly unknown[]> => {
        try {
          return await f();
        } catch (e) {
          stats.errors += Math.max(1, rows);
          if (opts.onError) opts.onError(e as Error, undefined);
          else client.warnings.warn('batch-handler', `batch handler error, ${rows} records skipped: ${(e as Error).message}`);
          return [];
        }
      };
      // the frames that have come while the last call ran go together into the next one
      const drain = async () => {
        if (hopts.maxWait && queuedRows < maxRows) await new Promise((r) => setTimeout(r, hopts.maxWait));
        while (queue.length) {
          const take = [queue.shift()!];
          let rows = take[0].batch.n;
          while (queue.length && rows + queue[0].batch.n <= maxRows) rows += take[take.push(queue.shift()!) - 1].batch.n;
          queuedRows -= rows;
          stats.received += rows;
          const origin = (lastOrigin = originOf(take[take.length - 1].r));
          emitAll(await call(() => h.process(concatBatches(take.map((t) => t.batch))), rows), origin);
          for (const t of take) ack(t.r.ch);
        }
        running = undefined;
      };
      let warned = false;
      deliver = (r) => {
        let batch: GpsBatch;
        try {
          const fixes = fixesOf(r);
          batch = fixes.batch;
          if (fixes.others) {
            stats.errors += fixes.others;
            if (!warned) client.log.warn(`a batch handler takes fixes; ${fixes.others} records without a fix's fields (deviceId, t, lon, lat) skipped (said once)`);
            warned = true;
          }
        } catch (e) {
          return undecodable(r.f, r.ch, e as Error);
        }
        queue.push({ r, batch });
        queuedRows += batch.n;
        running ??= drain();
      };
      finish = async () => {
        while (running) await running;
        if (h.flush) emitAll(await call(() => h.flush!(), 0), lastOrigin);
      };
      started('handleBatches');
    },

    stats: () => ({ ...stats, connected: client.connected, reconnects: client.reconnects }),
    async close() {
      await finish();
      writer.flush();
      await client.flushed(5000);
      await client.close();
    },
  };
}

/**
 * A frame's fixes as a batch: a GPS batch's columns as they are (views on the frame's bytes); records
 * that carry a fix's fields (a matched fix, an edge traversal) turned into columns, and how many did not.
 */
function fixesOf(r: Received): { batch: GpsBatch; others: number } {
  if (r.meta.ct === 'gps') return { batch: decodeGpsBatch(r.f.payload), others: 0 };
  const records = decodeRecords(r.meta.ct, r.f.payload);
  const fixes = records.filter(looksLikeFix);
  return { batch: batchFromRecords(fixes), others: records.length - fixes.length };
}
