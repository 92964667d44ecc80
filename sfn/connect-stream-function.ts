import { Subject, type Observable, type Subscription } from 'rxjs';
import type { DataFrame } from '../codecs/frame-types.ts';
import { unpackMeta } from '../codecs/metadata.ts';
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
  handle<T = any, R = any>(fn: Handler<T, R>, opts?: HandleOptions): void;
  stats(): StreamFunctionStats;
  close(): Promise<void>;
}

/**
 * Connects a stream function. Records of the observed tags arrive on an RxJS Observable; what the handler's
 * Observable emits is written back to the zipper under the `emit` tag, carrying the metadata (source id,
 * sequence number, trace id) of the input it was made from.
 */
export async function connectStreamFunction(opts: StreamFunctionOptions): Promise<StreamFunction> {
  await opts.init?.();
  const stats: StreamFunctionStats = { connected: false, reconnects: 0, received: 0, duplicates: 0, errors: 0, emitted: 0 };
  const input = new Subject<unknown>();
  const lastSeqFrom = new Map<string, number>();
  const handledOn = new WeakMap<FrameChannel, { count: number; queued: boolean }>();
  let held: [DataFrame, FrameChannel][] | null = [];
  let current: Origin | undefined;
  let lastOrigin: Origin | undefined;
  let currentRecord: unknown;

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

  const onData = (f: DataFrame, ch: FrameChannel) => {
    if (held) return void held.push([f, ch]);
    if (f.seq <= (lastSeqFrom.get(f.from) ?? 0)) {
      stats.duplicates++;
      return ack(ch);
    }
    lastSeqFrom.set(f.from, f.seq);
    let records: unknown[];
    try {
      const meta = unpackMeta(f.meta);
      records = decodeRecords(meta.ct, f.payload);
      current = lastOrigin = { sid: meta.sid ?? f.from, seq: meta.seq ?? f.seq, tid: meta.tid ?? '' };
    } catch (e) {
      stats.errors++;
      client.log.warn(`skipped an undecodable frame from ${f.from}: ${(e as Error).message}`);
      return ack(ch);
    }
    for (const r of records) {
      currentRecord = r;
      stats.received++;
      input.next(r);
    }
    current = undefined;
    ack(ch);
  };

  const client = new ZipperClient('sfn', opts, opts.observe, onData);
  const writer = new RecordWriter(client, opts.maxBatch);
  await client.connect();
  let sub: Subscription | undefined;

  return {
    clientId: client.clientId,
    handle(fn, hopts = {}) {
      if (sub) throw new Error('handle() was already called for this function');
      const emit = hopts.emit === undefined ? [] : Array.isArray(hopts.emit) ? hopts.emit : [hopts.emit];
      const out = (v: unknown) => {
        if (emit.length === 0) return;
        const [tag, value] = emit.length > 1 ? (v as [string, unknown]) : [emit[0], v];
        stats.emitted++;
        writer.write(tag, value, current ?? lastOrigin);
      };
      const subscribe = (): Subscription => {
        const receivedBefore = stats.received;
        return fn(input.asObservable() as Observable<never>).subscribe({
          next: out,
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
            else client.log.warn(`handler error, record skipped: ${e.message}`);
            sub = subscribe();
          },
        });
      };
      sub = subscribe();
      const backlog = held!;
      held = null;
      for (const [f, ch] of backlog) onData(f, ch);
    },
    stats: () => ({ ...stats, connected: client.connected, reconnects: client.reconnects }),
    async close() {
      sub?.unsubscribe();
      writer.flush();
      await client.flushed(5000);
      await client.close();
    },
  };
}
