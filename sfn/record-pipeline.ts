import { createRequire } from 'node:module';
import type { Observable, Subscriber } from 'rxjs';
import type { FrameChannel } from '../transport/types.ts';
import { ChannelBrake } from './channel-brake.ts';

/** records in a handler at once, by default */
export const DEFAULT_WINDOW = 1024;

interface Frame {
  records: unknown[];
  ch: FrameChannel;
  /** records handed to the pipeline so far */
  fed: number;
  /** records handed over and not yet through */
  open: number;
  /** what each record made, by its index, so that a frame's outputs keep its records' order */
  outputs: unknown[][] | undefined;
  done: (outputs: unknown[], madeBy: number[]) => void;
}

export interface RecordPipelineEvents {
  received(): void;
  failed(e: Error, record: unknown): void;
  inFlight(n: number): void;
}

const NOTHING = Symbol('nothing');

/**
 * RxJS itself, required when a record pipeline is made rather than imported with this module: a thread that
 * runs only batch handlers (a kernel function's host) loads this module with connect-stream-function, and
 * must not carry the ~1.2 MB of heap that all of RxJS's operators take in each isolate. A thread with a
 * record handler has loaded RxJS already (its handler's operators), and Node resolves `rxjs` for an import
 * and for a require to the same CommonJS module (its "node" condition): one RxJS, one Observable class.
 */
const requireHere = createRequire(import.meta.url);
const rxjs = (): typeof import('rxjs') => requireHere('rxjs') as typeof import('rxjs');

let subscribing = 0;

/**
 * True while a record pipeline subscribes a handler for one record: an operator that keeps state across
 * records (a kernel's per-device state) would keep it for that record alone, and can say so instead.
 */
export const insideRecordPipeline = (): boolean => subscribing > 0;

/**
 * An RxJS handler run over records with each record's completion tracked: a record is through when the
 * handler's pipeline for it completes — it emitted, was filtered out, or failed — which an operator's
 * internal buffer (a `concatMap` waiting on a timer) can no longer hide, and a failure costs that record
 * alone. The handler is called once; its pipeline is subscribed once per record, with the record as its
 * input, the way `mergeMap` runs inner observables: records run side by side, operator state lives per
 * record, and state across records belongs in the handler's closure (or in a batch handler).
 *
 * At most `window` records are in the pipeline at once; past that, frames wait and their channel is paused,
 * so the zipper and the sources feel the backpressure.
 */
export class RecordPipeline {
  private readonly pipeline: Observable<unknown>;
  /** frames with records not yet handed over, oldest first */
  private readonly waiting: Frame[] = [];
  private feeding: unknown = NOTHING;
  private open = 0;
  private queued = 0;
  private pumping = false;
  private readonly brake: ChannelBrake;

  constructor(
    fn: (in$: Observable<never>) => Observable<unknown>,
    private readonly window: number,
    private readonly on: RecordPipelineEvents,
  ) {
    if (!(Number.isInteger(window) && window >= 1)) throw new Error(`window must be a whole number of records, 1 or more (got ${window})`);
    this.brake = new ChannelBrake(window);
    const input = new (rxjs().Observable)<unknown>((sub: Subscriber<unknown>) => {
      const record = this.feeding;
      if (record === NOTHING) return sub.error(new Error('the handler subscribed to its input after the record was handed to it (subscribeOn, a delayed subscription): not supported'));
      sub.next(record);
      sub.complete();
    });
    this.pipeline = fn(input as Observable<never>);
  }

  /** records handed over and not yet through, or waiting to be */
  get busy(): boolean {
    return this.open > 0 || this.waiting.length > 0;
  }

  /**
   * Takes a frame's records; `done` gets what they made, in their order, once every one is through, and
   * for each output the index of the record that made it.
   */
  push(records: unknown[], ch: FrameChannel, done: (outputs: unknown[], madeBy: number[]) => void): void {
    if (records.length === 0) return done([], []);
    this.waiting.push({ records, ch, fed: 0, open: 0, outputs: undefined, done });
    this.queued += records.length;
    this.brake.took(this.queued, ch);
    this.pump();
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.open < this.window && this.waiting.length > 0) {
        const f = this.waiting[0];
        if (f.fed + 1 === f.records.length) this.waiting.shift();
        this.feed(f, f.fed++);
      }
    } finally {
      this.pumping = false;
    }
    this.on.inFlight(this.open);
    this.brake.let(this.queued);
  }

  private feed(f: Frame, i: number): void {
    const record = f.records[i];
    this.open++;
    f.open++;
    this.queued--;
    this.on.received();
    const through = () => {
      this.open--;
      if (--f.open === 0 && f.fed === f.records.length) this.release(f);
      this.pump();
    };
    this.feeding = record;
    subscribing++;
    try {
      this.pipeline.subscribe({
        next: (v) => ((f.outputs ??= [])[i] ??= []).push(v),
        error: (e: Error) => {
          this.on.failed(e, record);
          through();
        },
        complete: through,
      });
    } finally {
      this.feeding = NOTHING;
      subscribing--;
    }
  }

  private release(f: Frame): void {
    const outputs: unknown[] = [];
    const madeBy: number[] = [];
    f.outputs?.forEach((made, i) => {
      for (const v of made) {
        outputs.push(v);
        madeBy.push(i);
      }
    });
    f.done(outputs, madeBy);
  }
}
