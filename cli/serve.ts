import { sumSinkStats } from '../sinks/sink.ts';
import { logger, type Logger } from '../log/logger.ts';
import { loadWorkflow } from '../workflows/load.ts';
import type { Workflow } from '../workflows/schema.ts';
import { serveWorkflow, type ServedWorkflow } from '../serve/serve-workflow.ts';
import { kernelDrops } from '../serve/workflow-metrics.ts';
import type { Parsed } from './args.ts';
import { simulateAs } from './simulate-as.ts';
import { untilSignal } from './until-signal.ts';

function banner(wf: Workflow, served: ServedWorkflow, log: Logger): void {
  const { zipper: z, broker, dashboard } = served;
  const lines = [`geoflux zipper "${wf.name}" (${wf.file})`, 'listening on:'];
  for (const l of z.listeners) lines.push(`  ${l.url.padEnd(40)} ${l.detail ?? ''}`);
  lines.push(
    z.tls.selfSigned
      ? `TLS: self-signed certificate, SHA-256 ${z.tls.certHash}\n  (clients: --cert-hash ${z.tls.certHash}, or certHash in code)`
      : `TLS: certificate from ${wf.tls?.cert}, SHA-256 ${z.tls.certHash}`,
  );
  lines.push(`auth: ${wf.auth?.token ? 'token required' : 'none (no auth.token in the workflow)'}${wf.auth?.clientCa ? `; client certificates signed by ${wf.auth.clientCa}` : ''}`);
  if (wf.control) lines.push(`control: on, its own token  (geoflux deploy <kernel.wasm> --zipper ${z.listeners[0].url} --token <control.token> …; geoflux functions)`);
  if (served.metrics) lines.push(`metrics: ${served.metrics.url}  (Prometheus; geoflux status --metrics ${served.metrics.url})`);
  // where every MQTT sink runs on the workers, their alerts go to the broker the workflow's mqtt: names as the
  // workers read it, which may be another edge's: this one's broker need not see them
  const cloudAlerts = wf.functions.some((f) => f.sink === 'mqtt') && wf.functions.every((f) => f.sink !== 'mqtt' || f.where === 'cloud');
  const watch = cloudAlerts ? "alerts come from the workers, to the broker the workflow's mqtt: names as they read it" : `watch: geoflux alerts --mqtt ${broker?.url}`;
  if (broker) lines.push(`MQTT: embedded broker ${broker.url}${broker.wsUrl ? `, ${broker.wsUrl} (WebSocket)` : ''}  (${watch})`);
  else if (wf.mqtt?.kind === 'external') lines.push(`MQTT: ${wf.mqtt.url}`);
  if (dashboard) lines.push(`dashboard: ${dashboard.url}  (open it in a browser: the live map)`);
  if (dashboard && served.fleet) lines.push(`queries: ${dashboard.url}v1/  (the fleet index: geoflux query nearby --lon … --lat … --url ${dashboard.url.replace(/\/$/, '')}; docs/query.md)`);
  lines.push('tags: ' + Object.entries(wf.tags).map(([n, t]) => `${n}=${t}`).join(' '));
  lines.push('functions:');
  for (const f of wf.functions) {
    const d = f.dispatch.kind === 'partition' ? `partition by ${f.dispatch.key}` : 'round robin';
    const where = f.where === 'cloud' ? `cloud: the workers, over ${wf.cluster!.partitions} partitions by deviceId` : `${d}, ${f.host}${f.host === 'local' ? ` ×${f.instances}` : ''}`;
    lines.push(`  ${f.name.padEnd(16)} ${f.observe.join(',')} → ${f.emit.length ? f.emit.join(',') : '(none)'}  [${where}]`);
  }
  for (const f of served.deployments?.functions() ?? []) lines.push(`  ${f.name.padEnd(16)} ${f.observe.join(',')} → ${f.emit.join(',') || '(none)'}  [deployed, partition by deviceId, local ×${f.instances}]`);
  if (wf.cluster) lines.push(`cluster: NATS ${wf.cluster.servers.join(', ')}, stream "${wf.cluster.stream}", ${wf.cluster.partitions} partitions  (geoflux status --cluster ${wf.file})`);
  log.info(lines.join('\n'));
}

/** A line a period: frames per second in and out, and anything dropped. */
function statsLine(served: ServedWorkflow, prev: { in: number; out: number; at: number }): string {
  const z = served.zipper;
  const s = z.stats();
  // the zipper's totals per tag, not the open connections' (a connection that closes takes its counts with it)
  const fin = Object.values(s.tagsIn).reduce((a, t) => a + t.frames, 0);
  const fout = Object.values(s.tagsOut).reduce((a, t) => a + t.frames, 0);
  const dt = (Date.now() - prev.at) / 1000;
  const line = `${s.connections.length} connections · in ${((fin - prev.in) / dt).toFixed(0)} frames/s · out ${((fout - prev.out) / dt).toFixed(0)} frames/s · inflight ${s.inflight}${
    s.rejected || s.malformed || s.dropped || s.poison ? ` · rejected ${s.rejected} malformed ${s.malformed} dropped ${s.dropped} poison ${s.poisonRecords}` : ''
  }`;
  const kinds = [...new Set(served.sinks.map((k) => k.sink.kind))];
  const sinks = kinds.map((kind) => {
    const k = sumSinkStats(served.sinks.filter((x) => x.sink.kind === kind).map((x) => x.sink.stats()));
    return ` · ${kind} ${k.connected ? '' : 'DOWN, '}${k.published} published${k.buffered ? `, ${k.buffered} buffered` : ''}${k.dropped ? `, ${k.dropped} dropped` : ''}`;
  });
  Object.assign(prev, { in: fin, out: fout, at: Date.now() });
  return line + sinks.join('');
}

export async function serveCommand({ values, positionals }: Parsed): Promise<void> {
  const file = positionals[0] ?? 'workflow.yaml';
  const log = logger('serve');
  const loaded = await loadWorkflow(file);
  const wf = values.as ? simulateAs(loaded, String(values.as)) : loaded;
  const drainTimeout = Number(values['drain-timeout']);
  let started = false;
  // from before the banner: a Ctrl-C while the sources start is a clean stop once they have, not a kill
  const signal = untilSignal('serve', {
    say: (line) => log.info(line),
    stopping: () => `${started ? '' : 'once started, '}draining, functions finishing what they hold (up to ${drainTimeout} ms)`,
    cutShort: () =>
      started
        ? "the drain and the functions' closes: what they held stays unacknowledged (a source in another process sends it again), sinks' buffers are not flushed, and there is no done: line"
        : 'the start',
  }).signal;
  const served = await serveWorkflow(wf, { log, drainTimeout, onListening: (s) => banner(wf, s, log) });
  started = true;
  const every = Number(values['stats-every']) * 1000;
  const prev = { in: 0, out: 0, at: Date.now() };
  const timer = every > 0 ? setInterval(() => log.info(statsLine(served, prev)), every) : undefined;
  if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
  clearInterval(timer);
  await served.stop();
  const s = served.zipper.stats();
  // every kind of drop /metrics counts, the kernels' included: a user reading only this line must not believe nothing was lost
  const k = kernelDrops(served);
  const sinkDropped = sumSinkStats(served.sinks.map((x) => x.sink.stats())).dropped;
  log.info(`done: ${JSON.stringify({ accepted: s.accepted, rejected: s.rejected, malformed: s.malformed, unrouted: s.unrouted, dropped: s.dropped, poison: s.poison, poisonRecords: s.poisonRecords, lostAtClose: s.lostAtClose, ...k, sinkDropped, tagsIn: s.tagsIn })}`);
}
