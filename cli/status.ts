import { parseExposition, total, type ParsedSample } from '../metrics/parse-exposition.ts';
import { UsageError, type Parsed } from './args.ts';

const n = (x: number) => Math.round(x).toLocaleString('en');

async function scrape(url: string): Promise<ParsedSample[]> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`no geoflux serve answers at ${url} (${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}); is it running, with metrics: { port } in its workflow?`);
  }
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return parseExposition(await res.text());
}

const labelValues = (s: ParsedSample[], name: string, label: string) => [...new Set(s.filter((x) => x.name === name).map((x) => x.labels[label]))];

/** A running serve, summed up from two scrapes of its /metrics a second apart: what flows, what waits, what was lost. */
export async function statusCommand({ values }: Parsed): Promise<void> {
  const url = String(values.metrics);
  const every = Number(values.interval) * 1000;
  if (!(every > 0)) throw new UsageError(`--interval must be a number of seconds > 0 (got "${values.interval}")`);
  const before = await scrape(url);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, every));
  const s = await scrape(url);
  const secs = (Date.now() - t0) / 1000;
  const rate = (name: string, where: Record<string, string> = {}) => (total(s, name, where) - total(before, name, where)) / secs;
  const lines = [`geoflux serve at ${url}`];
  const conns = s.filter((x) => x.name === 'geoflux_connections' && x.value > 0).map((x) => `${x.labels.kind}/${x.labels.transport} ${x.value}`);
  lines.push(`connections: ${n(total(s, 'geoflux_connections'))}${conns.length ? ` (${conns.join(', ')})` : ''}`);
  const tags = labelValues(s, 'geoflux_records_in_total', 'tag');
  lines.push(`in: ${tags.map((tag) => `${tag} ${n(rate('geoflux_records_in_total', { tag }))}/s (${n(total(s, 'geoflux_records_in_total', { tag }))})`).join(', ') || 'nothing yet'}`);
  lines.push(`in flight: ${n(total(s, 'geoflux_inflight_frames'))} frames`);
  lines.push('functions:');
  for (const fn of labelValues(s, 'geoflux_function_instances', 'function')) {
    const w = { function: fn };
    const bad = total(s, 'geoflux_kernel_bad_rows_total', w) + total(s, 'geoflux_kernel_trapped_rows_total', w) + total(s, 'geoflux_kernel_failed_rows_total', w);
    lines.push(
      `  ${fn.padEnd(16)} ${total(s, 'geoflux_function_instances', w)} instance(s) · backlog ${n(total(s, 'geoflux_function_unacked_frames', w))} unacked, ${n(total(s, 'geoflux_function_waiting_frames', w))} waiting` +
        ` · ${n(rate('geoflux_function_records_total', w))} records/s · restarts ${n(total(s, 'geoflux_function_restarts_total', w))}` +
        `${bad ? ` · ${n(bad)} fixes dropped (bad or trapping)` : ''}${total(s, 'geoflux_function_errors_total', w) ? ` · ${n(total(s, 'geoflux_function_errors_total', w))} errors` : ''}`,
    );
  }
  for (const sink of labelValues(s, 'geoflux_sink_published_total', 'sink')) {
    const w = { sink };
    const kind = s.find((x) => x.name === 'geoflux_sink_published_total' && x.labels.sink === sink)?.labels.kind ?? 'sink';
    lines.push(
      `${kind} ${sink}: ${total(s, 'geoflux_sink_connected', w) ? 'connected' : 'DISCONNECTED'} · ${n(rate('geoflux_sink_published_total', w))}/s published (${n(total(s, 'geoflux_sink_published_total', w))})` +
        ` · ${n(total(s, 'geoflux_sink_buffered_messages', w))} buffered · ${n(total(s, 'geoflux_sink_dropped_total', w))} dropped`,
    );
  }
  const dropped = s.filter((x) => x.name === 'geoflux_frames_dropped_total' && x.value > 0).map((x) => `${x.labels.reason} ${n(x.value)}`);
  const rejected = s.filter((x) => x.name === 'geoflux_handshake_rejections_total' && x.value > 0).map((x) => `${x.labels.reason} ${n(x.value)}`);
  lines.push(`frames dropped: ${dropped.join(', ') || 'none'} · handshakes refused: ${rejected.join(', ') || 'none'}`);
  process.stdout.write(lines.join('\n') + '\n');
}
