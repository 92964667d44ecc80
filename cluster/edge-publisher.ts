import type { JetStreamClient } from '@nats-io/jetstream';
import type { GpsBatch } from '../codecs/gps-batch.ts';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { Histogram, MS_BUCKETS, type HistogramSnapshot } from '../metrics/histogram.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';
import { partitionSubject } from './partition.ts';
import { splitByPartition } from './split-by-partition.ts';
import { SubjectBatcher, type ReadyMessage } from './subject-batcher.ts';

export interface EdgePublisherOptions {
  js: JetStreamClient;
  stream: string;
  partitions: number;
  /** fixes a message is sent at (default 32) */
  minFixes?: number;
  /** ms a fix waits at most for its message to fill (default 50) */
  maxDelayMs?: number;
  /** fixes a message holds at most (default 4,096) */
  maxFixes?: number;
  /** encoded bytes sent and not yet acknowledged beyond which the caller is told to pause (default 16 MiB) */
  maxBytesInFlight?: number;
  /** frames not yet fully acknowledged beyond which the caller is told to pause (default 10,000) */
  maxFramesInFlight?: number;
  /** ms to wait for a PubAck before sending again (default 2,000) */
  ackTimeoutMs?: number;
  /** ms before the first resend of a message that failed; doubles to 2 s (default 100) */
  retryMs?: number;
  clock?: Clock;
  log?: Logger;
}

export interface EdgePublisherStats {
  /** messages sent, first sends and resends */
  published: number;
  /** fixes accepted */
  fixes: number;
  /** PubAcks received, duplicates among them */
  pubacks: number;
  /** PubAcks that said JetStream already had the message (a resend it dropped) */
  duplicates: number;
  /** sends that failed (no PubAck in time, no connection, no JetStream) and were tried again */
  retries: number;
  /** messages sent and not yet acknowledged, or waiting their turn */
  pending: number;
  /** fixes waiting for their message to fill */
  batching: number;
  framesInFlight: number;
  bytesInFlight: number;
  /** frames the caller offered while told to pause, and refused */
  refused: number;
  pubAckMs: HistogramSnapshot;
}

/** Thrown by publish() while the publisher is full: the caller should have paused (see `full` and `whenRoom`). */
export class PublisherFullError extends Error {
  override readonly name = 'PublisherFullError';
}

interface FrameEntry {
  unsent: number;
  unacked: number;
  resolve(): void;
}

interface Queue {
  items: ReadyMessage<FrameEntry>[];
  sending: boolean;
}

const TOKEN = /^[^\s.*>]+$/;

/**
 * The edge's way into JetStream. A frame's fixes bound for a cloud tag go to `<stream>.<tag>.<partition>`,
 * batched per writer and subject (subject-batcher.ts), each message with a Nats-Msg-Id that names its
 * content, so a resend of the same frames after an edge crash is dropped by JetStream (subject-batcher.ts
 * says when). `publish` resolves once JetStream has acknowledged every message holding the frame's fixes:
 * then the caller acks the source.
 *
 * Messages of one writer and subject go one at a time, in order: a device's fixes must reach its partition
 * in time order, and a failed send resent after a later one succeeded would reverse them. While NATS is
 * away every message is resent until it is acknowledged; what waits is bounded by `full`, which the caller
 * answers by pausing its sources. Nothing is dropped.
 */
export class EdgePublisher {
  private readonly batcher: SubjectBatcher<FrameEntry>;
  private readonly queues = new Map<string, Queue>();
  private readonly clock: Clock;
  private readonly warn: RateLimitedLog;
  private readonly histogram = new Histogram(MS_BUCKETS);
  private readonly rooms: (() => void)[] = [];
  private readonly counts = { published: 0, fixes: 0, pubacks: 0, duplicates: 0, retries: 0, pending: 0, framesInFlight: 0, bytesInFlight: 0, refused: 0 };
  private readonly maxBytes: number;
  private readonly maxFrames: number;

  constructor(private readonly o: EdgePublisherOptions) {
    this.clock = o.clock ?? systemClock;
    this.warn = new RateLimitedLog(o.log ?? logger('edge-publisher'), { clock: this.clock });
    this.maxBytes = o.maxBytesInFlight ?? 16 * 1024 * 1024;
    this.maxFrames = o.maxFramesInFlight ?? 10_000;
    this.batcher = new SubjectBatcher({ minFixes: o.minFixes, maxDelayMs: o.maxDelayMs, maxFixes: o.maxFixes, clock: this.clock, onReady: (m) => this.ready(m) });
  }

  /** true while the caller should send no more frames */
  get full(): boolean {
    return this.counts.framesInFlight >= this.maxFrames || this.counts.bytesInFlight >= this.maxBytes;
  }

  /** Resolves once `full` is false. */
  whenRoom(): Promise<void> {
    return this.full ? new Promise((r) => this.rooms.push(r)) : Promise.resolve();
  }

  /**
   * Publishes frame `seq` of `writer` (the source's clientId: stable across its reconnects and the edge's
   * restarts), whose fixes are for `tag`. Resolves when JetStream holds all of them.
   */
  publish(writer: string, seq: number, tag: string, batch: GpsBatch): Promise<void> {
    if (this.full) {
      this.counts.refused++;
      this.warn.warn('full', `edge publisher: frame ${seq} of ${writer} refused, ${this.counts.framesInFlight} frames / ${this.counts.bytesInFlight} bytes in flight (the caller should pause)`);
      throw new PublisherFullError(`${this.counts.framesInFlight} frames and ${this.counts.bytesInFlight} bytes in flight`);
    }
    if (!TOKEN.test(tag)) throw new Error(`a tag must be a subject token (no spaces, ".", "*", ">"): ${JSON.stringify(tag)}`);
    this.counts.fixes += batch.n;
    const parts = splitByPartition(batch, this.o.partitions);
    if (!parts.size) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const frame: FrameEntry = { unsent: parts.size, unacked: 0, resolve };
      this.counts.framesInFlight++;
      for (const [p, b] of parts) this.batcher.add(writer, seq, partitionSubject(this.o.stream, tag, p), `${tag}:${p}`, b, frame);
    });
  }

  /** Sends what is still batching, and resolves once every frame given is acknowledged. */
  async flush(): Promise<void> {
    this.batcher.flushAll();
    while (this.counts.framesInFlight) await new Promise<void>((r) => this.rooms.push(r));
  }

  stats(): EdgePublisherStats {
    return { ...this.counts, batching: this.batcher.waiting, pubAckMs: this.histogram.snapshot() };
  }

  private ready(m: ReadyMessage<FrameEntry>): void {
    for (const f of m.frames) {
      f.unsent--;
      f.unacked++;
    }
    this.counts.pending++;
    this.counts.bytesInFlight += m.payload.byteLength;
    const key = `${m.writer}\u0000${m.subject}`;
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { items: [], sending: false }));
    q.items.push(m);
    if (!q.sending) this.send(key, q, this.o.retryMs ?? 100);
  }

  private send(key: string, q: Queue, retryMs: number): void {
    const m = q.items[0];
    q.sending = true;
    this.counts.published++;
    const start = this.clock.now();
    this.o.js.publish(m.subject, m.payload, { msgID: m.msgId, timeout: this.o.ackTimeoutMs ?? 2_000 }).then(
      (ack) => {
        this.histogram.observe(this.clock.now() - start);
        this.counts.pubacks++;
        if (ack.duplicate) this.counts.duplicates++;
        q.items.shift();
        this.acked(m);
        if (q.items.length) this.send(key, q, this.o.retryMs ?? 100);
        else {
          q.sending = false;
          this.queues.delete(key);
        }
      },
      (e: Error) => {
        this.counts.retries++;
        this.warn.warn('retry', `edge publisher: ${m.subject} ${m.msgId} not acknowledged (${e.message}); sending again in ${retryMs} ms`);
        this.clock.setTimeout(() => this.send(key, q, Math.min(retryMs * 2, 2_000)), retryMs);
      },
    );
  }

  private acked(m: ReadyMessage<FrameEntry>): void {
    this.counts.pending--;
    this.counts.bytesInFlight -= m.payload.byteLength;
    for (const f of m.frames) {
      if (--f.unacked || f.unsent) continue;
      this.counts.framesInFlight--;
      f.resolve();
    }
    if (!this.full) for (const r of this.rooms.splice(0)) r();
  }
}
