import type { GpsRecord } from '../codecs/gps-record.ts';
import { connectSource, type Source } from '../source/connect-source.ts';
import { LineSink } from '../simulators/line-sink.ts';
import { CSV_HEADER, fixLine, formatOf, type LineFormat } from '../simulators/traffic/fix-lines.ts';
import { UsageError, type Parsed } from './args.ts';
import { connectionOptions } from './connection-flags.ts';


export interface FixOutput {
  /** " → quic://… → out.csv (csv)" */
  readonly description: string;
  readonly source?: Source;
  emit(fixes: GpsRecord[]): Promise<void>;
  /** " · connected, 12 unacked" for a status line */
  status(): string;
  close(): Promise<void>;
}

export async function openFixOutput(values: Parsed['values'], clientName: string, onClosed?: () => void): Promise<FixOutput> {
  if (!values.zipper && !values.out) throw new UsageError('say where the fixes go: --zipper <url>, or --out <file> (- for stdout)');
  const format = (values.format ?? (values.out ? formatOf(String(values.out)) : 'jsonl')) as LineFormat;
  if (format !== 'csv' && format !== 'jsonl') throw new UsageError(`--format is csv or jsonl (got "${format}")`);
  const out = values.out ? new LineSink(String(values.out), onClosed) : undefined;
  const source = values.zipper ? await connectSource({ name: clientName, ...connectionOptions(values) }) : undefined;
  if (format === 'csv') await out?.write([CSV_HEADER]);
  const tag = String(values.tag);
  return {
    description: `${source ? ` → ${values.zipper}` : ''}${out ? ` → ${out.isStdout ? 'stdout' : values.out} (${format})` : ''}`,
    source,
    async emit(fixes) {
      // a backed-up zipper or link: wait until what is in flight is acknowledged
      if (source && fixes.length && !source.write(tag, fixes)) await source.flush(5000);
      await out?.write(fixes.map((f) => fixLine(f, format)));
    },
    status() {
      if (!source) return '';
      const s = source.stats();
      return ` · ${s.connected ? 'connected' : 'reconnecting'}, ${s.spooled} unacked${s.dropped ? `, ${s.dropped} dropped` : ''}`;
    },
    async close() {
      await source?.close();
      await out?.close();
    },
  };
}
