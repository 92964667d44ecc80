import { hash32 } from '../zipper/hash-ring.ts';
import type { Observable } from 'rxjs';
import { InvalidFixError, looksLikeFix } from '../codecs/fix-checks.ts';
import type { DataFrame } from '../codecs/frame-types.ts';
import { batchFromRecords, concatBatches, decodeGpsBatch, recordsOf, type GpsBatch } from '../codecs/gps-batch.ts';
import { unpackMeta, type Metadata } from '../codecs/metadata.ts';
import { decodeRecords } from '../codecs/records.ts';
import { EventIds, placeOf } from '../codecs/event-ids.ts';
import { functionNameOf } from '../serve/versioned-name.ts';
import { ZipperClient, type ClientOptions } from '../client/client.ts';
import { RecordWriter, type Origin } from '../client/record-writer.ts';
import type { FrameChannel } from '../transport/types.ts';
import { byHalves } from './by-halves.ts';
import { CallOrigins } from './call-origins.ts';
import { ChannelBrake } from './channel-brake.ts';
import { OrderedAcks, type Handling } from './ordered-acks.ts';
import { DEFAULT_WINDOW, RecordPipeline } from './record-pipeline.ts';
import { SeenFrames } from './seen-frames.ts';

export interface StreamFunctionOptions extends ClientOptions {
  /** tag names this function reads */
  observe: string[];
  /** runs once before the function connects (load models, open files) */
  init?: () => void | Promise<void>;
  /**
   * connect while `init` runs, not after it: for a parked function's wake (serve/park.ts), so its handshake
   * costs the wake no time; the frames the zipper held for it come at once and wait for the handler, in
   * order, until `init` is done
   */
  joinEarly?: boolean;
  /** called for each error a handler throws; the record is skipped and the stream goes on */
  onError?: (err: Error, record: unknown) => void;
  maxBatch?: number;
  /** what each ack carries besides, made from the function's stats as of the ack (AckFrame.counted: a worker thread's counters) */
  withAcks?: (stats: StreamFunctionStats) => unknown;
}

export interface HandleOptions {
  /** the tag outputs are written to; with several tags, outputs are `[tagName, value]` pairs */
  emit?: string | string[];
  /**
   * records in the handler at once (default 1024): beyond it, no more are handed over and the zipper is
   * pushed back on, so a slow operator makes the sources wait instead of filling memory
   */
  window?: number;
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

/** A frame as a frame handler gets it: its tag, the writer and sequence number it came from, its fixes. */
export interface FixFrame {
  tag: string;
  origin: Origin;
  batch: GpsBatch;
}

export interface FrameHandleOptions {
  /** frames in hand at once (default 1024): beyond it, the zipper is pushed back on */
  window?: number;
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
  /** records handed to an RxJS handler that are not yet through it */
  inFlight: number;
}

export type Handler<T = any, R = any> = (in$: Observable<T>) => Observable<R>;

export interface StreamFunction {
  readonly clientId: string;
  /** records one at a time, as objects, through an RxJS handler */
  handle<T = any, R = any>(fn: Handler<T, R>, opts?: HandleOptions): void;
  /** fixes by the batch, as columns; a frame is acknowledged once the call that took it has returned */
  handleBatches<R = unknown>(h: BatchHandler<R>, opts?: BatchHandleOptions): void;
  /**
   * whole frames of fixes, many at once, each acknowledged once the promise its call returned has settled:
   * for a function that hands frames on (to JetStream) and must not ack before the other end has them.
   * A call that rejects costs its frame, counted as errors; nothing is emitted
   */
  handleFrames(h: (frame: FixFrame) => Promise<void>, opts?: FrameHandleOptions): void;
  stats(): StreamFunctionStats;
  /** waits up to `timeout` ms (default 5,000) for what is in hand to be handled; what is not stays unacknowledged, for the zipper to hand on */
  close(timeout?: number): Promise<void>;
}

const idOf = (v: unknown): unknown => (typeof v === 'object' && v !== null ? (v as { id?: unknown }).id : undefined);
const sameId = (output: unknown, input: unknown): boolean => idOf(output) !== undefined && idOf(output) === idOf(input);

/** `:<kind>` of an event that names its kind */
const kindOf = (event: unknown): string => {
  const kind = (event as { kind?: unknown }).kind;
  return typeof kind === 'string' ? `:${kind}` : '';
};

interface Received {
  f: DataFrame;
  ch: FrameChannel;
  meta: Metadata;
  h: Handling;
}

/**
 * Connects a stream function. Records of the observed tags arrive on an RxJS Observable (or, for a batch
 * handler, as columns); what the handler emits is written back to the zipper under the `emit` tag, carrying
 * the metadata (source id, sequence number, trace id) of the input it was made from.
 */
export async function connectStreamFunction(opts: StreamFunctionOptions): Promise<StreamFunction> {
  if (!opts.joinEarly) await opts.init?.();
  const stats: StreamFunctionStats = { connected: false, reconnects: 0, received: 0, duplicates: 0, errors: 0, emitted: 0, inFlight: 0 };
  const seen = new SeenFrames();
  const statsNow = (): StreamFunctionStats => ({ ...stats, connected: client.connected, reconnects: client.reconnects });
  const withAcks = opts.withAcks;
  const acks = new OrderedAcks(withAcks && (() => withAcks(statsNow())));
  let held: [DataFrame, FrameChannel][] | null = [];
  let deliver: (r: Received) => void = () => {};

  const originOf = (r: Received): Origin => ({ sid: r.meta.sid ?? r.f.from, seq: r.meta.seq ?? r.f.seq, tid: r.meta.tid ?? '' });

  const onData = (f: DataFrame, ch: FrameChannel) => {
    if (held) {
      held.push([f, ch]);
      // frames past these stay with the channel, untaken, so the zipper's backpressure holds their writers
      // for as long as the handler is not there (a wake's kernel that opens slowly)
      if (held.length >= HOLD_BEFORE_HANDLER) ch.pause();
      return;
    }
    if (seen.check(f.from, f.seq)) {
      stats.duplicates++;
      return acks.skip(ch);
    }
    let meta: Metadata;
    try {
      meta = unpackMeta(f.meta);
    } catch (e) {
      return undecodable(f, ch, e as Error);
    }
    deliver({ f, ch, meta, h: acks.begin(ch) });
  };

  const undecodable = (f: DataFrame, ch: FrameChannel, e: Error, h?: Handling) => {
    stats.errors++;
    client.warnings.warn('undecodable', `skipped an undecodable frame from ${f.from}: ${e.message}`);
    if (h) acks.finish(h);
    else acks.skip(ch);
  };

  const client = new ZipperClient('sfn', opts, opts.observe, onData);
  const writer = new RecordWriter(client, opts.maxBatch);
  if (opts.joinEarly) await initJoining(client, opts.init);
  else await client.connect();
  /** resolves true when nothing it began is left unfinished */
  let finish: (timeout: number) => Promise<boolean> = async () => true;

  const fnName = functionNameOf(opts.name);
  /**
   * what a frame made, written out and sent at once: it must reach the zipper before the frame's ack does.
   * Each event (not a fix, which goes on to more functions) gets an id of this function's name, `madeFrom`
   * (the source and where on a device's timeline it was made) and its kind, so the same input handled again
   * — resent by its source after serve restarted — makes the same ids, and a sink or subscriber can drop the
   * repeats; a source started again (a new id) is new, however alike its fixes (a seeded simulation).
   */
  const emitter = (emit: string | string[] | undefined) => {
    const tags = emit === undefined ? [] : Array.isArray(emit) ? emit : [emit];
    return (values: readonly unknown[], origin: Origin | undefined, madeFrom: (value: unknown, i: number) => string, inputOf?: (i: number) => unknown) => {
      if (tags.length === 0 || values.length === 0) return;
      const ids = new EventIds();
      for (const [i, v] of values.entries()) {
        const [tag, value] = tags.length > 1 ? (v as [string, unknown]) : [tags[0], v];
        if (!looksLikeFix(value)) {
          // an output that carries its input's id did not bring one of its own: two made from one event
          // ({ ...e, to: 'a' } and { ...e, to: 'b' }) would share it, and a sink keep only the first
          if (inputOf && sameId(value, inputOf(i))) delete (value as { id?: unknown }).id;
          ids.stamp(value, `${fnName}:${madeFrom(value, i)}${kindOf(value)}`);
        }
        try {
          writer.write(tag, value, origin);
          stats.emitted++;
        } catch (e) {
          // a row the zipper would refuse (a matched speed past any vehicle's) costs only itself, not the thread
          if (!(e instanceof InvalidFixError)) throw e;
          failed(e, value, 'output', 'an output record was dropped');
        }
      }
      writer.flush();
    };
  };

  const failed = (e: Error, record: unknown, kind: string, what: string) => {
    stats.errors++;
    if (opts.onError) opts.onError(e, record);
    else client.warnings.warn(kind, `${what}: ${e.message}`);
  };

  /** resolves once nothing is in hand, or after `timeout` ms: what is still in hand stays unacknowledged */
  const settled = async (busy: () => boolean, timeout: number) => {
    const end = Date.now() + timeout;
    while (busy() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    return !busy();
  };

  /** a frame's fixes; records that are not fixes are counted as errors and said (rate-limited); a frame that cannot be decoded is skipped */
  const onlyFixes = (r: Received): GpsBatch | undefined => {
    let fixes: ReturnType<typeof fixesOf>;
    try {
      fixes = fixesOf(r);
    } catch (e) {
      return void undecodable(r.f, r.ch, e as Error, r.h);
    }
    if (fixes.others) {
      stats.errors += fixes.others;
      // by this instance, not once for the function: a scale-to-zero function is a new instance at each wake
      client.warnings.warn('not-fixes', `this function takes fixes; ${fixes.others} records without a fix's fields (deviceId, t, lon, lat) skipped`);
    }
    return fixes.batch;
  };

  const started = (how: string) => {
    if (held === null) throw new Error(`${how}() was called after this function's handler was set`);
    const backlog = held;
    held = null;
    // resumed first: what the channels deliver comes on later turns, after the backlog, and a brake the
    // backlog puts on them (a full pipeline) stays on
    for (const ch of new Set(backlog.map(([, ch]) => ch))) ch.resume();
    for (const [f, ch] of backlog) onData(f, ch);
  };

  return {
    clientId: client.clientId,
    handle(fn, hopts = {}) {
      const out = emitter(hopts.emit);
      const records = new RecordPipeline(fn, hopts.window ?? DEFAULT_WINDOW, {
        received: () => stats.received++,
        failed: (e, record) => failed(e, record, 'handler', 'handler error, record skipped'),
        inFlight: (n) => (stats.inFlight = n),
      });
      deliver = (r) => {
        let recs: unknown[];
        try {
          recs = decodeRecords(r.meta.ct, r.f.payload);
        } catch (e) {
          return undecodable(r.f, r.ch, e as Error, r.h);
        }
        const origin = originOf(r);
        // an output is made at its input record's place on its device's timeline, or the record's place in its frame
        const madeFrom = (madeBy: number[]) => (_: unknown, i: number) => `${origin.sid}:${placeOf(recs[madeBy[i]]) ?? `${origin.seq}:${madeBy[i]}:${hash32(JSON.stringify(recs[madeBy[i]])).toString(16)}`}`;
        records.push(recs, r.ch, (outputs, madeBy) => {
          // a frame's outputs go out when all its records are through, just before its ack: a frame redelivered
          // after a crash made nothing yet, so nothing it makes is made twice
          r.h.release = () => out(outputs, origin, madeFrom(madeBy), (i) => recs[madeBy[i]]);
          acks.finish(r.h);
        });
      };
      finish = (timeout) => settled(() => records.busy, timeout);
      started('handle');
    },

    handleBatches(h, hopts = {}) {
      const out = emitter(hopts.emit);
      const maxRows = hopts.maxRows ?? 4096;
      const queue: { r: Received; batch: GpsBatch }[] = [];
      let queuedRows = 0;
      let running: Promise<void> | undefined;
      /** where the last call's fixes came from: what the flush emits is named by it */
      let lastCall = new CallOrigins([]);
      // a call that throws is split and tried again by halves, so a row that makes it throw costs only itself
      const process = (batch: GpsBatch) =>
        byHalves(batch, (b) => h.process(b), (e, row) => {
          failed(e as Error, recordsOf(row)[0], 'batch-handler', 'batch handler error, 1 record skipped');
          return [];
        });
      // the frames that have come while the last call ran go together into the next one; a frame that an
      // instance died holding goes alone, so that a death in its call is blamed on it (Metadata.orphan)
      const alone = (q: { r: Received }) => q.r.meta.orphan === true;
      const drain = async () => {
        if (hopts.maxWait && queuedRows < maxRows) await new Promise((r) => setTimeout(r, hopts.maxWait));
        while (queue.length) {
          const take = [queue.shift()!];
          let rows = take[0].batch.n;
          while (!alone(take[0]) && queue.length && !alone(queue[0]) && rows + queue[0].batch.n <= maxRows) rows += take[take.push(queue.shift()!) - 1].batch.n;
          queuedRows -= rows;
          stats.received += rows;
          const call = (lastCall = new CallOrigins(take.map((t) => ({ devices: t.batch.devices, origin: originOf(t.r) }))));
          const events = await process(concatBatches(take.map((t) => t.batch)));
          take[take.length - 1].r.h.release = () => out(events, call.origin, call.moment());
          acks.finish(...take.map((t) => t.r.h));
        }
        running = undefined;
      };
      deliver = (r) => {
        const batch = onlyFixes(r);
        if (!batch) return;
        queue.push({ r, batch });
        queuedRows += batch.n;
        running ??= drain();
      };
      finish = async () => {
        while (running) await running;
        if (h.flush) {
          try {
            out(await h.flush(), lastCall.origin, lastCall.moment(':flush'));
          } catch (e) {
            failed(e as Error, undefined, 'batch-handler', 'batch handler error at flush');
          }
        }
        return true;
      };
      started('handleBatches');
    },

    handleFrames(h, hopts = {}) {
      const window = hopts.window ?? DEFAULT_WINDOW;
      const brake = new ChannelBrake(window);
      const tagNames = new Map(Object.entries(client.tags).map(([name, n]) => [n, name]));
      let inHand = 0;
      deliver = (r) => {
        const batch = onlyFixes(r);
        if (!batch) return;
        stats.received += batch.n;
        brake.took(++inHand, r.ch);
        h({ tag: tagNames.get(r.f.tag) ?? String(r.f.tag), origin: originOf(r), batch })
          .catch((e: Error) => failed(e, undefined, 'frame-handler', `frame handler error, ${batch.n} records skipped`))
          .finally(() => {
            acks.finish(r.h);
            brake.let(--inHand);
          });
      };
      finish = (timeout) => settled(() => inHand > 0, timeout);
      started('handleFrames');
    },

    stats: statsNow,
    async close(timeout = 5000) {
      const finished = await finish(timeout);
      writer.flush();
      await client.flushed(timeout);
      // a goodbye hands what it holds on unblamed (it never began them); one that began a frame and could not
      // finish it leaves without, so that the zipper blames that frame as it would a crash: a record that
      // stalls its handler is dropped after a few, rather than handed on for ever
      await client.close(finished);
    },
  };
}

/** frames a function takes before its handler is set (it joined early): the rest wait in the channel */
const HOLD_BEFORE_HANDLER = 64;

/** `init` while the client connects; the connection is closed again when `init` fails */
async function initJoining(client: ZipperClient, init: (() => void | Promise<void>) | undefined): Promise<void> {
  const joined = client.connect();
  // awaited once init is done; a dial that fails meanwhile is not an unhandled rejection
  joined.catch(() => undefined);
  try {
    // the dial goes out once the promises before it have run; init's synchronous work (a kernel made and its
    // state imported, 1–2 ms) would otherwise hold it back, and the handshake's round trip would follow it
    await new Promise((r) => setImmediate(r));
    await init?.();
  } catch (e) {
    await joined.then(() => client.close(), () => undefined);
    throw e;
  }
  await joined;
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
