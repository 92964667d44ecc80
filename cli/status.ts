import { parseExposition, total, type ParsedSample } from '../metrics/parse-exposition.ts';
import { deploymentLabel, describeReport } from '../cluster/cluster-deployments.ts';
import { clusterView } from '../cluster/cluster-view.ts';
import { connectNats, unreachable } from '../cluster/connect-nats.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { parseHostPort, UsageError, type Parsed } from './args.ts';
import { thousands } from '../log/thousands.ts';

const n = (x: number) => thousands(Math.round(x));

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
  const every = Number(values.interval) * 1000;
  if (!(every > 0)) throw new UsageError(`--interval must be a number of seconds > 0 (got "${values.interval}")`);
  if (values.cluster) {
    // the edge's own figures, when one answers here, also while NATS does not: that is when they are wanted
    let failure: Error | undefined;
    const text = await clusterLines(String(values.cluster)).catch((e: Error) => ((failure = e), []));
    const serve = await serveLines(metricsUrl(String(values.metrics)), every).catch((e: Error) => [`(no serve figures: ${e.message})`]);
    process.stdout.write([...serve, ...text].join('\n') + '\n');
    if (failure) throw failure;
    return;
  }
  process.stdout.write((await serveLines(metricsUrl(String(values.metrics)), every)).join('\n') + '\n');
}

/** `9464`, `host:9464` or a URL: where the serve's /metrics answers */
export function metricsUrl(v: string): string {
  const at = parseHostPort(v);
  return at ? `http://${at.host}:${at.port}/metrics` : v;
}

/**
 * What `--cluster` adds: the stream, edges, workers, per partition its owner, lag and last checkpoint, and
 * per worker the deployed kernels it runs and refused.
 */
export async function clusterLines(file: string): Promise<string[]> {
  const wf = await loadWorkflow(file);
  if (!wf.cluster) throw new UsageError(`${file} has no cluster: section`);
  const nc = await connectNats({ ...wf.cluster, name: 'geoflux status', waitOnFirstConnect: false }).catch((e: Error) => {
    throw unreachable(e) ? new Error(`cannot reach the cluster's NATS at ${wf.cluster!.servers.join(', ')} (${e.message}; is nats-server running?)`) : e;
  });
  try {
    const v = await clusterView(nc, wf.cluster);
    const lines = [
      `cluster: stream "${v.stream}" at ${wf.cluster.servers.join(', ')} · ${n(v.messages)} messages (${(v.bytes / 1e6).toFixed(1)} MB), last sequence ${n(v.lastSeq)}`,
      `edges: ${v.edges.join(', ') || 'none'} · workers: ${v.workers.join(', ') || 'none'}`,
      'partitions:',
    ];
    for (const p of v.partitions) {
      const cp = p.checkpoint ? `checkpoint at ${n(p.checkpoint.seq)} (${n(p.checkpoint.bytes)} bytes, ${(p.checkpoint.ageMs / 1000).toFixed(1)} s ago)` : 'no checkpoint';
      lines.push(`  ${String(p.partition).padStart(3)}  ${(p.owner ?? 'UNHELD').padEnd(24)} lag ${p.lag === undefined ? '—' : n(p.lag)} · ${cp}`);
    }
    // also with none deployed: a worker may still run one undeployed a moment ago
    if (v.deployed.size || [...v.reports.values()].some((r) => Object.keys(r.kernels).length || Object.keys(r.refused).length)) {
      lines.push(`deployed: ${[...v.deployed.values()].map(deploymentLabel).join(', ') || 'none'}; per worker:`);
      for (const [w, r] of [...v.reports].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) lines.push(`  ${w.padEnd(24)} ${describeReport(r, v.deployed)}`);
    }
    return lines;
  } finally {
    await nc.close();
  }
}

async function serveLines(url: string, every: number): Promise<string[]> {
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
  return lines;
}
