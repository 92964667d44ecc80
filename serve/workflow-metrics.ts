import { expiresAt } from '../transport/cert-expiry.ts';
import type { Registry } from 'prom-client';
import { registryOf } from '../metrics/registry-of.ts';
import { addUp, counter, gauge, type Family, type Sample } from '../metrics/families.ts';
import { edgePublisherFamilies } from '../cluster/cluster-metrics.ts';
import { CLOUD_BRIDGE } from '../cluster/cluster-options.ts';
import { sinkFamilies } from '../sinks/sink-metrics.ts';
import { kernelFamilies } from '../sfn/kernel-metrics.ts';
import type { KernelRunSnapshot } from '../sfn/kernel-batches.ts';
import type { CloudBridge } from './cloud-bridge.ts';
import type { Autoscaling } from './autoscaling.ts';
import type { ScaleToZero } from './scale-to-zero.ts';
import { functionLoad } from './function-load.ts';
import { hereCounts, lifetime } from './retired-counts.ts';
import type { ServedWorkflow } from './serve-workflow.ts';
import { functionNameOf } from './versioned-name.ts';

/**
 * What `geoflux serve` exports for Prometheus, read from the running workflow at each scrape: the zipper's
 * counters, each function's instances (in their threads or in this one) and each source's, the sinks.
 * Every place that drops or skips something has its counter here (see docs/failure-handling.md).
 */

type Stats = Record<string, unknown>;
const num = (s: Stats | undefined, ...path: string[]): number => {
  let v: unknown = s;
  for (const k of path) v = (v as Stats | undefined)?.[k];
  return typeof v === 'number' ? v : 0;
};

/**
 * per function (the user's name: a deployed function's versions are one), everything its instances counted,
 * those it no longer runs too; what its running instances report now; and what those it no longer runs
 * counted, kept apart
 */
interface FunctionCounts {
  total: Stats;
  now: Stats[];
  retired: Stats;
  restarts: Record<string, number>;
}

function byFunction(served: ServedWorkflow): Map<string, FunctionCounts> {
  const out = new Map<string, { total: Stats[]; now: Stats[]; retired: Stats[]; restarts: Record<string, number>[] }>();
  const entry = (zipperName: string) => {
    const fn = functionNameOf(zipperName);
    return out.get(fn) ?? (out.set(fn, { total: [], now: [], retired: [], restarts: [] }), out.get(fn)!);
  };
  for (const { fn, thread } of served.functionThreads) {
    const e = entry(fn);
    e.total.push(lifetime(thread));
    if (thread.stats) e.now.push(thread.stats as Stats);
    e.restarts.push(thread.restarts);
  }
  for (const { fn, sfn, kernel } of served.functions) {
    const s = hereCounts(sfn, kernel);
    entry(fn).total.push(s);
    entry(fn).now.push(s);
  }
  // the bridge to the cluster is a function of the zipper too, in serve's thread: `geoflux status` rates it
  if (served.cloud) {
    const s = { ...served.cloud.stats().handled };
    entry(CLOUD_BRIDGE).total.push(s);
    entry(CLOUD_BRIDGE).now.push(s);
  }
  for (const [fn, c] of served.retired.byFunction()) {
    entry(fn).total.push(c.total);
    entry(fn).retired.push(c.total);
    entry(fn).restarts.push(c.restarts);
  }
  return new Map([...out].map(([fn, e]) => [fn, { total: addUp(e.total), now: e.now, retired: addUp(e.retired), restarts: addUp(e.restarts) as Record<string, number> }]));
}

/** a kernel's own counters (its schema's) in stats as instances report them, summed */
const kernelCounters = (stats: Stats[]): Record<string, number> => addUp(stats.map((s) => (s.kernel as Stats | undefined)?.counters)) as Record<string, number>;

/** What the functions' kernels dropped over serve's life, for its closing line: rows that trapped alone, rows unfit before the kernel. */
export function kernelDrops(served: ServedWorkflow): { kernelTrappedRows: number; kernelBadRows: number } {
  let kernelTrappedRows = 0;
  let kernelBadRows = 0;
  for (const [, s] of byFunction(served)) {
    kernelTrappedRows += num(s.total, 'kernel', 'trappedRows');
    for (const n of Object.values((s.total.kernel as Stats | undefined)?.badRows ?? {})) kernelBadRows += n as number;
  }
  return { kernelTrappedRows, kernelBadRows };
}

export function workflowMetrics(served: ServedWorkflow): Registry {
  const z = served.zipper;
  const fns = () => byFunction(served);
  const perFunction = (f: (s: FunctionCounts) => number): Sample[] =>
    [...fns()].map(([fn, s]) => ({ labels: { function: fn }, value: f(s) }));
  const tags = (m: 'tagsIn' | 'tagsOut', field: 'frames' | 'records'): Sample[] =>
    Object.entries(z.stats()[m]).map(([tag, c]) => ({ labels: { tag }, value: c[field] }));
  const sources = () => served.sourceThreads.map(({ source, thread }) => ({ source, total: lifetime(thread), now: thread.stats as Stats | undefined, restarts: thread.restarts }));

  const certEnd = expiresAt(z.tls.cert) / 1000;
  const families: Family[] = [
    gauge('geoflux_connections', 'clients connected now, by kind and transport', () => {
      const n = new Map<string, Sample>();
      for (const c of z.stats().connections) {
        const key = `${c.kind}/${c.transport}`;
        const s = n.get(key) ?? { labels: { kind: c.kind, transport: c.transport }, value: 0 };
        s.value++;
        n.set(key, s);
      }
      return [...n.values()];
    }),
    counter('geoflux_connections_accepted_total', 'connections accepted (before their handshake)', () => [{ value: z.counters.accepted }]),
    counter('geoflux_handshake_rejections_total', 'handshakes refused, by reason', () => [
      ...[...z.rejections].map(([reason, n]) => ({ labels: { reason }, value: n })),
      { labels: { reason: 'timeout' }, value: z.counters.handshakeTimeouts },
    ]),
    counter('geoflux_listener_timeouts_total', 'connections a listener closed for not finishing a step in time (tls, session), idle channels, refused client certificates', () =>
      z.listeners.flatMap((l) => {
        const s = l.stats();
        return [
          { labels: { listener: l.url, kind: 'tls' }, value: s.tlsTimeouts },
          { labels: { listener: l.url, kind: 'session' }, value: s.sessionTimeouts },
          { labels: { listener: l.url, kind: 'idle' }, value: s.idleTimeouts },
          { labels: { listener: l.url, kind: 'client_cert' }, value: s.clientCertRefused },
        ];
      }),
    ),
    counter('geoflux_malformed_frames_total', 'connections closed for a malformed frame', () => [{ value: z.counters.malformed }]),
    counter('geoflux_frames_in_total', 'Data frames written to the zipper, by tag', () => tags('tagsIn', 'frames')),
    counter('geoflux_records_in_total', 'records in Data frames written to the zipper, by tag', () => tags('tagsIn', 'records')),
    counter('geoflux_frames_out_total', 'Data frames sent on to function instances, by tag', () => tags('tagsOut', 'frames')),
    counter('geoflux_records_out_total', 'records sent on to function instances, by tag', () => tags('tagsOut', 'records')),
    counter('geoflux_frames_dropped_total', 'Data frames the zipper dropped, by reason', () => [
      { labels: { reason: 'unrouted' }, value: z.counters.unrouted },
      { labels: { reason: 'forbidden_tag' }, value: z.counters.forbidden },
      { labels: { reason: 'waiting_full' }, value: z.counters.dropped - z.counters.removed },
      { labels: { reason: 'function_removed' }, value: z.counters.removed },
      { labels: { reason: 'poison' }, value: z.counters.poison },
      { labels: { reason: 'duplicate' }, value: z.counters.duplicates },
      { labels: { reason: 'shutdown' }, value: z.counters.lostAtClose },
    ]),
    counter('geoflux_frames_unkeyed_total', 'frames for a partitioned function without a partition key (sent round robin)', () => [{ value: z.counters.unkeyed }]),
    counter('geoflux_poison_records_total', 'records dropped because the function instances they were handed to kept dying on them, by function', () => {
      // every function the zipper routes to starts at 0, so a rate() over it is there before the first drop
      const by = new Map(functionLoad(z).map((f) => [functionNameOf(f.name), 0]));
      for (const [fn, n] of z.poisonRecords) by.set(functionNameOf(fn), (by.get(functionNameOf(fn)) ?? 0) + n);
      return [...by].map(([fn, value]) => ({ labels: { function: fn }, value }));
    }),
    counter('geoflux_redeliveries_total', 'frames an instance died holding, handed on again', () => [{ value: z.counters.redelivered }]),
    gauge('geoflux_tls_certificate_expiry_timestamp_seconds', 'when the zipper\'s certificate stops being valid (seconds since the epoch): clients that pin it or trust it as their ca are refused after that', () => [{ labels: { self_signed: String(z.tls.selfSigned) }, value: certEnd }]),
    gauge('geoflux_inflight_frames', 'frames taken from writers and not yet acknowledged by every function they went to', () => [{ value: z.inflight }]),
    gauge('geoflux_function_instances', 'instances joined, per function', () => functionLoad(z).map((f) => ({ labels: { function: f.name }, value: f.instances }))),
    gauge('geoflux_function_unacked_frames', 'frames handed to a function’s instances and not yet acknowledged', () => functionLoad(z).map((f) => ({ labels: { function: f.name }, value: f.unacked }))),
    gauge('geoflux_function_waiting_frames', 'frames held for a function with no instance joined', () => functionLoad(z).map((f) => ({ labels: { function: f.name }, value: f.waiting }))),
    counter('geoflux_function_restarts_total', 'local function threads restarted, by reason (crash, hung, exit)', () =>
      [...fns()].flatMap(([fn, s]) => Object.entries(s.restarts).map(([reason, n]) => ({ labels: { function: fn, reason }, value: n }))),
    ),
    gauge('geoflux_host_threads', 'host threads running the instances of kernel and builtin functions, and the builtin traffic and replay sources', () => [{ value: served.hosts.stats().threads }]),
    gauge('geoflux_host_busy_ratio', 'the share of a host thread’s event loop busy over its last 2 s: instances started after the workflow’s own go to the least busy host under 0.5 before a new host starts', () => served.hosts.stats().busy.map((b) => ({ labels: { host: b.host }, value: b.share }))),
    counter('geoflux_host_restored_instances_total', 'kernel instances started again with their host thread (a neighbour hung or crashed), or apart after a hang, and given their last snapshot: counted once started (a start that fails is geoflux_host_failed_starts_total)', () => [{ value: served.hosts.stats().restored }]),
    counter('geoflux_host_rolled_back_records_total', 'records whose effect on a restored instance’s state was lost: handled after its last snapshot', () => [{ value: served.hosts.stats().rolledBack }]),
    counter('geoflux_host_restarted_empty_total', 'builtin function instances, kernel instances whose snapshot could not be taken (each said), and builtin traffic and replay sources started again with their host thread (or, a source, by a retry after its start failed), their state lost (a source from its beginning)', () => [{ value: served.hosts.stats().restartedEmpty }]),
    counter('geoflux_host_failed_starts_total', 'starts that failed of instances started again with their host thread, or apart after a hang (each logged): a function\'s instance is gone until its function starts anew; a builtin traffic or replay source is tried again, after 1 s doubling to 30 s (with jitter), until serve stops, and each try that fails counts here again', () => [{ value: served.hosts.stats().failedStarts }]),
    counter('geoflux_state_restored_devices_total', 'devices whose kernel state, saved at serve’s last clean stop, went back into their function’s instances as serve started', () => [...served.restored.devices].map(([fn, n]) => ({ labels: { function: fn }, value: n }))),
    counter('geoflux_state_discarded_total', 'kernel state files saved at serve’s last clean stop and not used as it started, by reason (changed: another kernel, params or file they name, or a whole state’s instances no longer fed as they were; unreadable; refused by the kernel): their devices started empty', () =>
      [...served.restored.discarded].map(([reason, n]) => ({ labels: { reason }, value: n })),
    ),
    gauge('geoflux_host_kept_kernels', 'parked functions whose kernel a host thread keeps prepared (files read, params compiled) for their wake', () => [{ value: served.hosts.stats().kept }]),
    counter('geoflux_function_records_total', 'records local function instances handled', () => perFunction((s) => num(s.total, 'received'))),
    counter('geoflux_function_emitted_total', 'records local function instances emitted', () => perFunction((s) => num(s.total, 'emitted'))),
    counter('geoflux_function_errors_total', 'records a handler threw for (skipped), and frames an instance could not decode', () => perFunction((s) => num(s.total, 'errors'))),
    // What the running instances' kernels count now, summed, with what the instances it no longer runs
    // counted (a replaced version, a park, a scale down; serve/retired-counts.ts, as for the counters above):
    // a gauge, not a counter (promtool refuses a gauge whose name says counter). The ABI's counters are of
    // two kinds it does not tell apart: tallies (skipped, outliers, implausibleSpeeds) and levels (devices,
    // pairs). An instance is retired having dropped its devices (moved to the new version's instances, kept
    // for a wake, or forgotten as it stops: serve/run-instance.ts), so its levels are 0 by then and only its
    // tallies carry on: nothing is counted twice, and a tally does not fall for a replace. A thread's earlier
    // incarnations are not carried: an instance started again restores its devices, and would count them
    // twice. So the figure falls only when an instance starts over, each way counted beside it: a trap that
    // no snapshot restored (geoflux_kernel_traps_total), its host thread's restart
    // (geoflux_function_restarts_total). A trap restored from a snapshot takes the counters back to where they were.
    ...kernelFamilies(() => [...fns()].map(([fn, s]) => ({ fn, kernel: s.total.kernel as Partial<KernelRunSnapshot> | undefined, counters: kernelCounters([...s.now, s.retired]) }))),
    ...scaleToZeroFamilies(served),
    ...autoscaleFamilies(served),
    counter('geoflux_source_restarts_total', 'sources started again (their own thread, or a builtin’s host thread, died or hung), by reason', () => sources().flatMap((s) => Object.entries(s.restarts).map(([reason, n]) => ({ labels: { source: s.source, reason }, value: n })))),
    gauge('geoflux_source_spooled_records', 'records a workflow source has written and the zipper not yet acknowledged', () => sources().map((s) => ({ labels: { source: s.source }, value: num(s.now, 'spooled') }))),
    counter('geoflux_ingest_fixes_total', 'fixes a device listener (osmand, teltonika, nmea, owntracks) took from devices and wrote', () =>
      sources().flatMap((s) => (s.total.ingest ? [{ labels: { source: s.source }, value: num(s.total, 'ingest', 'accepted') }] : [])),
    ),
    counter('geoflux_ingest_rejected_total', 'device messages a device listener refused, by reason (malformed, auth, no_fix, and the fix checks: device, time, position, motion)', () =>
      sources().flatMap((s) => Object.entries(((s.total.ingest as Stats | undefined)?.rejected as Record<string, number> | undefined) ?? {}).map(([reason, n]) => ({ labels: { source: s.source, reason }, value: n }))),
    ),
    counter('geoflux_source_unsent_records_total', 'fixes a simulator posing as devices (traffic with as: osmand) could not deliver to the listener', () =>
      sources().flatMap((s) => ('unsent' in s.total ? [{ labels: { source: s.source }, value: num(s.total, 'unsent') }] : [])),
    ),
    counter('geoflux_source_dropped_records_total', 'records a workflow source dropped from a full spool', () => sources().map((s) => ({ labels: { source: s.source }, value: num(s.total, 'dropped') }))),
    ...sinkFamilies(() => served.sinks),
    counter('geoflux_sink_duplicates_dropped_total', 'events a sink did not publish: one with the same id was published before (its input resent after a restart, or handled again after a crash)', () =>
      served.repeats.dropped().map(({ fn, dropped }) => ({ labels: { sink: fn }, value: dropped })),
    ),
    ...(served.cloud ? cloudFamilies(served.cloud) : []),
    ...(served.fleet ? fleetFamilies(served.fleet) : []),
    // the dashboard starts after this registry: read at each scrape
    counter('geoflux_query_refused_total', 'query API (/v1/) requests answered with an error, by endpoint (other: no such endpoint) and reason (bad_param, unknown_vehicle, no_route, method, no_fleet, too_large, error)', () => served.dashboard?.queryRefusals.samples() ?? []),
    counter('geoflux_deploy_refused_total', 'geoflux deploy and undeploy requests refused, by reason (name, tags, module, bounds, conformance, start, replace, unknown_function, error)', () => served.deployments?.refusedSamples() ?? []),
  ];
  return registryOf(families);
}

/** the `--min 0` deployed functions: scaled to zero now, how often, and their cold starts (first frame held → frames sent on) */
function scaleToZeroFamilies(served: ServedWorkflow): Family[] {
  const each = (v: (s: ScaleToZero) => number) => () => (served.deployments?.scaling() ?? []).map(({ name, scaler }) => ({ labels: { function: name }, value: v(scaler) }));
  return [
    gauge('geoflux_function_scaled_to_zero', 'deployed functions with --min 0: 1 while it has no instance (its state kept for the next frame)', each((s) => (s.state === 'parked' ? 1 : 0))),
    counter('geoflux_function_scale_to_zero_total', 'times a --min 0 function was scaled to zero after its idle period', each((s) => s.parks)),
    counter('geoflux_function_cold_starts_total', 'times a function scaled to zero was started again by a frame held for it', each((s) => s.coldStarts)),
    counter('geoflux_function_cold_start_seconds_total', 'time from the first frame held for a function scaled to zero to its restored instance ready (the held frames with it), summed over cold starts', each((s) => s.coldStartMsTotal / 1000)),
    counter('geoflux_function_unwoken_frames_total', 'frames held for a function scaled to zero after serve began to stop: nothing is started while serve stops, so it is not woken; each frame stays unacknowledged, kept by its writer for a resend or, written by serve\'s own threads, lost at close (geoflux_frames_dropped_total{reason="shutdown"})', each((s) => s.unwoken)),
  ];
}

/** the deployed functions autoscaled between --min and --max: their instances, changes, devices moved, frames held */
function autoscaleFamilies(served: ServedWorkflow): Family[] {
  const each = (v: (s: Autoscaling) => number) => () => (served.deployments?.autoscaling() ?? []).map(({ name, scaler }) => ({ labels: { function: name }, value: v(scaler) }));
  return [
    gauge('geoflux_function_autoscaled_instances', 'instances of a deployed function autoscaled between --min and --max (by deployment name)', each((s) => s.instances)),
    counter('geoflux_function_scale_events_total', 'instances added (direction up) and removed (down) by autoscaling', () =>
      (served.deployments?.autoscaling() ?? []).flatMap(({ name, scaler }) => [
        { labels: { function: name, direction: 'up' }, value: scaler.ups },
        { labels: { function: name, direction: 'down' }, value: scaler.downs },
      ]),
    ),
    counter('geoflux_function_scale_devices_moved_total', "devices whose state moved to their new instance in autoscaling's changes", each((s) => s.moved)),
    counter('geoflux_function_scale_held_seconds_total', "time a function's frames were held while autoscaling moved devices, summed over changes", each((s) => s.heldMsTotal / 1000)),
  ];
}

/** The edge's way into the cluster: connected or not, and what it published to JetStream and JetStream acknowledged. */
const cloudFamilies = (cloud: CloudBridge): Family[] => [
  gauge('geoflux_cluster_connected', '1 while the edge is connected to NATS and its stream is there', () => [{ labels: {}, value: cloud.stats().connected ? 1 : 0 }]),
  ...edgePublisherFamilies(() => cloud.stats().publisher),
];

/** The fleet's index: how many vehicles it holds, those that left for want of an update, the records it could not use. */
const fleetFamilies = (fleet: NonNullable<ServedWorkflow['fleet']>): Family[] => [
  gauge('geoflux_fleet_vehicles', 'vehicles in the fleet index (updated within its TTL)', () => [{ value: fleet.index.size }]),
  counter('geoflux_fleet_expired_total', 'vehicles that left the fleet index, not updated within its TTL', () => [{ value: fleet.index.expired }]),
  counter('geoflux_fleet_skipped_total', 'records the fleet function could not use, by reason (lost: unknown-vehicle, a fence event before any position; bad-position; bad-field, a field of a fix /v1/fields would refuse, the rest of the fix kept; not-a-position: other events on its tags; late: a fix older than the vehicle\'s position, at most 2 in a row)', () =>
    Object.entries(fleet.skipped).map(([reason, value]) => ({ labels: { reason }, value })),
  ),
];
