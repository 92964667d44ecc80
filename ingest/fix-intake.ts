import { checkRecords, fixProblem, InvalidFixError } from '../codecs/fix-checks.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { quoted } from '../codecs/control-characters.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { deviceRuleProblem } from './device-rules.ts';
import type { Source } from '../source/connect-source.ts';
import type { SourceContext } from '../source/source-module.ts';

/**
 * Where a device listener hands its decoded fixes: each is checked as the SDK's write() checks it (and
 * tidied the same way: -1 speed is unknown, heading mod 360), then written; what is refused is counted by
 * reason (`/metrics`: geoflux_ingest_rejected_total) with one rate-limited warning per reason, and the
 * caller answers the device as its protocol expects.
 */
export type RejectReason =
  /** a fix the SDK would refuse (no device id, a time out of range, a position off the globe, infinite motion), or device-rules.ts */
  | 'device' | 'time' | 'position' | 'motion'
  /** a message that is not the protocol's (bad JSON, a short packet, a bad checksum or CRC) */
  | 'malformed'
  /** a device or client the source's auth does not let in */
  | 'auth'
  /** a message the device sent without a position (a Teltonika record with no satellites, an NMEA "void" fix) */
  | 'no_fix';

export interface IntakeStats {
  protocol: string;
  accepted: number;
  rejected: Partial<Record<RejectReason, number>>;
}

export class FixIntake {
  private readonly counts: IntakeStats;
  private readonly warn: RateLimitedLog;
  /** fixes taken while the last frame is in flight: they go out together once it is acknowledged */
  private pending: unknown[] = [];
  private writing = false;

  constructor(
    private readonly source: Source,
    private readonly ctx: Pick<SourceContext, 'log' | 'report'>,
    protocol: string,
    private readonly tag = 'gps',
    /** the receiver's clock, which a device's time may not run ahead of (device-rules.ts) */
    private readonly now: () => number = Date.now,
  ) {
    this.counts = { protocol, accepted: 0, rejected: {} };
    this.warn = new RateLimitedLog(ctx.log);
    ctx.report?.(() => ({ ingest: this.stats() }));
  }

  /** Writes a device's fix; when it cannot be used, counts it and says why (for the device's answer). */
  take(fix: GpsRecord): { reason: RejectReason; message: string } | undefined {
    let tidy: readonly unknown[];
    try {
      tidy = checkRecords(this.tag, [fix]);
    } catch (e) {
      if (!(e instanceof InvalidFixError)) throw e;
      return this.refuseFix(fix, fixProblem(fix)!);
    }
    const rule = deviceRuleProblem(fix, this.now());
    if (rule) return this.refuseFix(fix, rule);
    this.counts.accepted++;
    for (const r of tidy) this.pending.push(r);
    if (!this.writing) void this.drain();
    return undefined;
  }

  /**
   * A device message is one fix, and a frame per fix is what makes QUIC slow (`npm run bench -- ingest`):
   * the first fix goes at once, and those that arrive while its frame is unacknowledged wait and share the
   * next, so a frame holds what came in one round trip (Nagle's rule). A zipper away holds nothing back
   * for more than a second: the SDK's spool takes the rest, and counts what it has to drop.
   */
  private async drain(): Promise<void> {
    this.writing = true;
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      this.source.write(this.tag, batch);
      await this.source.flush(1000);
    }
    this.writing = false;
  }

  private refuseFix(fix: GpsRecord, p: { reason: RejectReason; message: string }): { reason: RejectReason; message: string } {
    // quoted: an id with a newline or a NUL in it cannot forge or cut a log line
    this.refuse(p.reason, `${fix.deviceId ? `${quoted(fix.deviceId)}: ` : ''}${p.message}`);
    return p;
  }

  /** Counts a message refused before it was a fix (malformed, not allowed in), with a rate-limited warning. */
  refuse(reason: RejectReason, message: string): void {
    this.counts.rejected[reason] = (this.counts.rejected[reason] ?? 0) + 1;
    this.warn.warn(reason, `${this.counts.protocol}: refused (${reason}): ${message}`);
  }

  stats(): IntakeStats {
    return { ...this.counts, rejected: { ...this.counts.rejected } };
  }

  /** Writes what waits for an acknowledgement, and says what the rate limit held back; at the source's end. */
  close(): void {
    if (this.pending.length) this.source.write(this.tag, this.pending);
    this.pending = [];
    this.warn.flush();
  }
}

/** Resolves when `signal` aborts: a listener source runs until serve stops it. */
export const aborted = (signal: AbortSignal): Promise<void> => (signal.aborted ? Promise.resolve() : new Promise((r) => signal.addEventListener('abort', () => r(), { once: true })));

/** km/h, as devices send it, in the m/s of a geoflux fix (knots: KNOT in codecs/fix-checks.ts) */
export const KMH = 1 / 3.6;
