import type { GpsRecord } from '../codecs/gps-record.ts';
import { checkClientOptions, type ClientOptions } from '../client/client.ts';
import { connectSource, type Source, type SourceCloseReport } from '../source/connect-source.ts';
import { LineSink } from '../simulators/line-sink.ts';
import { CSV_HEADER, fixLine, formatOf, type LineFormat } from '../simulators/traffic/fix-lines.ts';
import { UsageError, type Parsed } from './args.ts';
import { connectionOptions } from './connection-flags.ts';
import { writePaced } from '../source/write-paced.ts';
import type { SignalOptions } from './until-signal.ts';
import { thousands } from '../log/thousands.ts';

export interface FixOutput {
  /** " → quic://… → out.csv (csv)" */
  readonly description: string;
  readonly source?: Source;
  emit(fixes: GpsRecord[]): Promise<void>;
  /** " · connected, 12 unacked" for a status line; " · closed" once closed (then `lostFixes` says what was lost) */
  status(): string;
  /** with a zipper: what it did not acknowledge by the end (see `lostFixes`) */
  close(): Promise<SourceCloseReport | undefined>;
}

/**
 * What a run that sent `sent` fixes to a zipper lost, as the error `sim` and `replay` exit with; undefined
 * when everything was acknowledged. Only what is known is said: a fix dropped from the spool never left, and
 * one not acknowledged may have reached the zipper (a function that hangs holds the acks of what it got) or not.
 */
export function lostFixes(report: SourceCloseReport | undefined, sent: number): string | undefined {
  if (!report || report.unacked + report.dropped === 0) return undefined;
  const of = (n: number) => `${thousands(n)} of ${thousands(sent)} fixes`;
  const parts = [
    report.unacked && `${of(report.unacked)} not acknowledged by the zipper within ${report.waited} ms (--ack-timeout): whether they reached it is not known`,
    report.dropped && `${of(report.dropped)} dropped from a full spool: they never reached the zipper`,
  ].filter(Boolean);
  return parts.join('; ');
}

export interface FixOutputPlan {
  format: LineFormat;
  /** where a zipper is named, how to reach it */
  connection?: Omit<ClientOptions, 'name'>;
}

/**
 * Everything about where the fixes go that can be judged without a dial or a write: the destination, the
 * format, and connection options no dial mends (a malformed --cert-hash or --zipper, an unreadable --ca).
 * `sim` and `replay` check it before their long work (a road network, a big trace), not after it.
 */
export function planFixOutput(values: Parsed['values']): FixOutputPlan {
  if (!values.zipper && !values.out) throw new UsageError('say where the fixes go: --zipper <url>, or --out <file> (- for stdout)');
  const format = (values.format ?? (values.out ? formatOf(String(values.out)) : 'jsonl')) as LineFormat;
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format is csv or jsonl (got "${format}")`);
  const connection = values.zipper ? connectionOptions(values) : undefined;
  if (connection) checkClientOptions(connection);
  return { format, connection };
}

/**
 * sim's and replay's signals: the first ends the fixes, after which their output closes, waiting (up to
 * --ack-timeout) for the zipper to acknowledge what was sent; a second ends that wait.
 */
export const FINISHING: SignalOptions = {
  stopping: () => 'the fixes written are flushed, and acknowledged by a --zipper, first',
  cutShort: () => "the output's close: fixes a --zipper has not acknowledged are not known to have arrived, and there is no summary",
};

export async function openFixOutput(
  values: Parsed['values'],
  { format, connection }: FixOutputPlan,
  clientName: string,
  stop: { signal: AbortSignal; abort(): void },
): Promise<FixOutput> {
  const out = values.out ? new LineSink(String(values.out), () => stop.abort()) : undefined;
  const source = connection ? await connectSource({ name: clientName, ...connection, signal: stop.signal }) : undefined;
  if (format === 'csv') await out?.write([CSV_HEADER]);
  const tag = String(values.tag);
  let closed = false;
  return {
    description: `${source ? ` → ${values.zipper}` : ''}${out ? ` → ${out.isStdout ? 'stdout' : values.out} (${format})` : ''}`,
    source,
    async emit(fixes) {
      if (source) await writePaced(source, tag, fixes);
      await out?.write(fixes.map((f) => fixLine(f, format)));
    },
    status() {
      if (!source) return '';
      // a closed client is disconnected on purpose: not "reconnecting"
      if (closed) return ' · closed';
      const s = source.stats();
      return ` · ${s.connected ? 'connected' : 'reconnecting'}, ${s.spooled} unacked${s.dropped ? `, ${s.dropped} dropped` : ''}`;
    },
    async close() {
      const report = await source?.close(Number(values['ack-timeout']));
      closed = true;
      await out?.close();
      return report;
    },
  };
}
