import { concatBatches, encodeGpsBatch, sliceRows, type GpsBatch } from '../codecs/gps-batch.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';

/** One message for JetStream: the fixes of one writer's consecutive frames for one subject, encoded. */
export interface ReadyMessage<F> {
  writer: string;
  subject: string;
  /** `<writer>:<firstSeq>-<lastSeq>:<tag>:<partition>:<chunk>` */
  msgId: string;
  payload: Uint8Array;
  fixes: number;
  /** the frames whose fixes it carries, once each */
  frames: F[];
}

export interface SubjectBatcherOptions<F> {
  /** a message is ready once it holds this many fixes (default 32) */
  minFixes?: number;
  /** ms after its first fix that a message is ready however few it holds (default 50) */
  maxDelayMs?: number;
  /** fixes a message holds at most (default 4,096: ~170 kB, well under NATS's 1 MB payload) */
  maxFixes?: number;
  clock?: Clock;
  onReady(m: ReadyMessage<F>): void;
}

interface Open<F> {
  key: string;
  subject: string;
  idTail: string;
  writer: string;
  firstSeq: number;
  lastSeq: number;
  fixes: number;
  parts: { batch: GpsBatch; frame: F }[];
  timer: unknown;
}

/**
 * Gathers fixes per writer and subject into messages. A message never splits one frame's fixes for its
 * subject (a frame that alone exceeds maxFixes is cut into numbered chunks), so its id — the writer and
 * the range of frames — names its content. When each frame brings minFixes or more for a subject, each
 * closes a message of its own, so after an edge crash a resend gets the same id and JetStream drops it.
 * Messages that span frames (fewer fixes a frame) may be cut elsewhere on a resend, and then the resent
 * fixes arrive a second time under a new id — never lost, possibly repeated (docs/scale-out.md).
 */
export class SubjectBatcher<F> {
  private readonly open = new Map<string, Open<F>>();
  private readonly minFixes: number;
  private readonly maxDelayMs: number;
  private readonly maxFixes: number;
  private readonly clock: Clock;

  constructor(private readonly o: SubjectBatcherOptions<F>) {
    this.minFixes = o.minFixes ?? 32;
    this.maxDelayMs = o.maxDelayMs ?? 50;
    this.maxFixes = o.maxFixes ?? 4_096;
    this.clock = o.clock ?? systemClock;
  }

  /** fixes waiting for their message to fill or time out */
  get waiting(): number {
    let n = 0;
    for (const b of this.open.values()) n += b.fixes;
    return n;
  }

  /** Adds `batch`, the fixes of frame `seq` of `writer` bound for `subject` (whose tail, `<tag>:<partition>`, goes in the id). */
  add(writer: string, seq: number, subject: string, idTail: string, batch: GpsBatch, frame: F): void {
    const key = `${writer}\u0000${subject}`;
    let b = this.open.get(key);
    if (b && b.fixes + batch.n > this.maxFixes) this.flush(b);
    if (batch.n > this.maxFixes) {
      for (let c = 0, at = 0; at < batch.n; c++, at += this.maxFixes) {
        const part = sliceRows(batch, at, Math.min(at + this.maxFixes, batch.n));
        this.emit(writer, subject, `${writer}:${seq}-${seq}:${idTail}:${c}`, [{ batch: part, frame }], part.n);
      }
      return;
    }
    b = this.open.get(key);
    if (!b) {
      b = { key, subject, idTail, writer, firstSeq: seq, lastSeq: seq, fixes: 0, parts: [], timer: undefined };
      const opened = b;
      b.timer = this.clock.setTimeout(() => this.flush(opened), this.maxDelayMs);
      this.open.set(key, b);
    }
    b.lastSeq = seq;
    b.fixes += batch.n;
    b.parts.push({ batch, frame });
    if (b.fixes >= this.minFixes) this.flush(b);
  }

  /** Makes every waiting message ready now (at a close). */
  flushAll(): void {
    for (const b of [...this.open.values()]) this.flush(b);
  }

  private flush(b: Open<F>): void {
    if (this.open.get(b.key) !== b) return;
    this.open.delete(b.key);
    this.clock.clearTimeout(b.timer);
    this.emit(b.writer, b.subject, `${b.writer}:${b.firstSeq}-${b.lastSeq}:${b.idTail}:0`, b.parts, b.fixes);
  }

  private emit(writer: string, subject: string, msgId: string, parts: Open<F>['parts'], fixes: number): void {
    const payload = encodeGpsBatch(concatBatches(parts.map((p) => p.batch)));
    this.o.onReady({ writer, subject, msgId, payload, fixes, frames: parts.map((p) => p.frame) });
  }
}
