import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EmbeddedBroker } from '../alerts/embedded-broker.ts';
import type { Dashboard } from '../dashboard/server.ts';
import { logger, logLevel, type Logger } from '../log/logger.ts';
import { availableParallelism } from 'node:os';
import { isBuiltin } from '../runtime/import-module.ts';
import { HOSTED_SOURCES } from '../source/builtin-sources.ts';
import { ModuleThread, type FunctionInstance } from '../runtime/module-thread.ts';
import { FunctionLogs } from './function-logs.ts';
import { functionLabel } from './versioned-name.ts';
import type { StreamFunction } from '../sfn/connect-stream-function.ts';
import type { KernelRunStats } from '../sfn/kernel-batches.ts';
import { hereCounts, instanceCounts, RetiredCounts, type Counted } from './retired-counts.ts';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server.ts';
import type { Sink } from '../sinks/sink.ts';
import { Zipper, type ZipperConfig } from '../zipper/zipper.ts';
import { CLOUD_BRIDGE } from '../cluster/cluster-options.ts';
import { fieldError } from '../workflows/load.ts';
import type { FleetSkips } from '../query/fleet-function.ts';
import type { FleetIndex } from '../query/fleet-index.ts';
import { FLEET_BUILTIN } from '../query/fleet-params.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import type { CloudBridge } from './cloud-bridge.ts';
import { cloudInputTags } from './cloud-input-tags.ts';
import { DeploymentStore } from './deployment-store.ts';
import { Deployments } from './deployments.ts';
import { FunctionHosts, HostedInstance, type KeptKernel } from './function-hosts.ts';
import { HungKernels } from './hung-kernels.ts';
import type { LocalWorkerData } from './local-worker.ts';
import type { SourceData } from './run-source.ts';
import { SinkRepeats } from './sink-repeats.ts';
import { lockStateFolder } from './state-lock.ts';
import { removeLeftoverStateWrites } from './leftover-writes.ts';
import { restoreServedState, RestoredCounts, SavedStates } from './saved-state.ts';
import type { Parked } from './park.ts';
import { workflowMetrics } from './workflow-metrics.ts';
import { workflowStatus } from './workflow-status.ts';

/**
 * The composition root: a workflow, running. In order: the zipper, reachable only in this process; the
 * `host: local` functions, geoflux's own code in the host threads, a user's JavaScript each instance in a thread
 * of its own (functions with `timeout: 0` in this one); only once they all run, anything that listens: the
 * embedded MQTT broker, then the sinks (in this thread), the zipper's network listeners, the metrics endpoint
 * and the dashboard; last the `sources:`, a builtin in a host thread, a user's module in a thread of its own.
 * Anything that cannot start stops serve with the file, line and field that named it, and closes what had
 * started. `stop()` drains and closes it all in the reverse order, the functions upstream first.
 * The fleet function (`run: builtin:fleet`) runs in this thread too, so the dashboard's server answers
 * `/v1/` queries from its index in a plain call (docs/query.md says why).
 */

export const zipperConfigOf = (wf: Workflow, clientCa?: string): ZipperConfig => ({
  name: wf.name,
  listen: wf.listen,
  tls: wf.tls,
  token: wf.auth?.token,
  clientCa,
  controlToken: wf.control?.token,
  tags: wf.tags,
  functions: [
    ...wf.functions.filter((f) => f.where !== 'cloud').map((f) => ({ name: f.name, observe: f.observe, dispatch: f.dispatch })),
    ...(wf.cluster && wf.functions.some((f) => f.where === 'cloud') ? [{ name: CLOUD_BRIDGE, observe: cloudInputTags(wf), dispatch: { kind: 'balance' as const } }] : []),
  ],
});

/**
 * ms a local function's thread may go without a sign of life (stuck in one handler call or one kernel call)
 * before it is stopped and restarted: long enough that a loaded machine is not mistaken for an endless loop
 */
export const DEFAULT_TIMEOUT = 10_000;

/** A running workflow: the zipper plus what it hosts. */
export interface ServedWorkflow {
  zipper: Zipper;
  /** local function instances in worker threads: geoflux's own code in the host threads, a user's JavaScript in a thread of its own */
  functionThreads: { fn: string; thread: FunctionInstance }[];
  /** the host threads of the kernel and builtin functions' instances and the simulating sources (HOSTED_SOURCES) */
  hosts: FunctionHosts;
  /** sources: a builtin in a host thread, a user's module (or one that dials a `zipper:` of its own) in a thread of its own */
  sourceThreads: { source: string; thread: FunctionInstance }[];
  /** local function instances in this thread: sinks, and functions with `timeout: 0` */
  functions: { fn: string; sfn: StreamFunction; kernel?: KernelRunStats }[];
  /** what the instances stopped while serve runs (a replace, a park, a scale down) had counted */
  retired: RetiredCounts;
  /** the kernel state saved at serve's last clean stop: devices restored, files not used */
  restored: RestoredCounts;
  sinks: { fn: string; sink: Sink }[];
  /** what the sinks drop as published before, by id */
  repeats: SinkRepeats;
  /** where Prometheus scrapes, when the workflow asks for metrics */
  metrics?: MetricsServer;
  /** the embedded MQTT broker, when the workflow uses one */
  broker?: EmbeddedBroker;
  /** where the sinks publish */
  mqttUrl?: string;
  /** the live map over HTTP, when the workflow has `dashboard:` */
  dashboard?: Dashboard;
  /** what carries fixes to the cluster's workers, when functions run `where: cloud` */
  cloud?: CloudBridge;
  /** the functions deployed at run time (`geoflux deploy`), when the workflow has a control channel */
  deployments?: Deployments;
  /** each function's recent log lines (`geoflux logs`) */
  logs: FunctionLogs;
  /** the fleet's live index, when a function runs builtin:fleet, and the records it could not use */
  fleet?: { index: FleetIndex; skipped: FleetSkips };
  /** drains what is in flight (at most `drainTimeout` ms), then closes everything */
  stop(): Promise<void>;
}

export interface ServeOptions {
  log?: Logger;
  /** on stop, how long functions may take to finish what they hold (ms, default 5000) */
  drainTimeout?: number;
  /** called once the zipper, the metrics endpoint and the dashboard listen, before the sources start: serve prints its banner here */
  onListening?: (served: ServedWorkflow) => void;
}

export async function serveWorkflow(wf: Workflow, opts: ServeOptions = {}): Promise<ServedWorkflow> {
  const log = opts.log ?? logger('serve');
  const drainTimeout = opts.drainTimeout ?? 5000;
  const embedded = wf.mqtt?.kind === 'embedded' ? wf.mqtt : undefined;
  // before anything starts: a second serve on the folder is refused, not run beside the first
  const lock = await lockStateFolder(wf.stateDir, log);
  await removeLeftoverStateWrites(wf.stateDir, log);
  const stopped = async (drain: number, save = true) => {
    try {
      await stop(wf, served, drain, log, save);
    } finally {
      await lock.release();
    }
  };
  const served: ServedWorkflow = { zipper: undefined!, functionThreads: [], hosts: undefined!, sourceThreads: [], functions: [], retired: new RetiredCounts(), restored: new RestoredCounts(), sinks: [], repeats: undefined!, logs: new FunctionLogs(), mqttUrl: wf.mqtt?.kind === 'external' ? wf.mqtt.url : undefined, stop: () => stopped(drainTimeout) };
  const at = (path: (string | number)[]) => (e: Error) => Promise.reject(fieldError(wf, path, e.message));
  try {
    // read before anything starts: a file that cannot be used fails serve at once, not after every function ran
    const saved = await new DeploymentStore(wf.stateDir)
      .list()
      .catch((e: Error) => {
        // no control: section, no deploy to overwrite it: a file no one will use does not stop serve
        if (wf.control) throw e;
        log.warn(`${e.message} (not used: the workflow has no control: section)`);
        return [];
      });
    served.repeats = await SinkRepeats.load(wf.stateDir, log);
    const clientCa = wf.auth?.clientCa && (await readFile(wf.auth.clientCa, 'utf8').catch(at(['auth', 'clientCa'])));
    served.zipper = await Zipper.create(zipperConfigOf(wf, clientCa || undefined), { stateDir: wf.stateDir, functionLabel });
    const hung = await HungKernels.load(wf.stateDir, log);
    served.hosts = new FunctionHosts({ size: wf.hosts ?? availableParallelism(), attach: (ch) => served.zipper.attach(ch), log: logger('serve'), lines: (fn, line) => served.logs.add(fn, line), hung });
    const here = [...wf.functions.entries()].filter(([, f]) => f.where !== 'cloud');
    for (const [i, f] of here) if (f.host === 'local' && !f.sink) await startFunction(wf, f, served, log, startFailure(wf, i, f));
    for (const [, f] of here) if (f.host === 'local') await restoreServedState(wf, served, f, log);
    served.hosts.byLoad = true;
    // the broker, the cluster's bridge and the dashboard are loaded only by a workflow that has them: each
    // brings libraries (Aedes, the NATS client, the query API) that would sit in this thread's heap unused
    if (wf.cluster && here.length < wf.functions.length) served.cloud = await (await import('./cloud-bridge.ts')).startCloudBridge({ ...wf, cluster: wf.cluster }, { zipper: served.zipper.memoryUrl, token: wf.auth?.token });
    // only now that the functions run does anything listen: first the broker, which the sinks publish to
    if (embedded) {
      const { startEmbeddedBroker } = await import('../alerts/embedded-broker.ts');
      served.broker = await startEmbeddedBroker({ host: embedded.host, port: embedded.port, wsPort: embedded.wsPort, log: logger('mqtt') }).catch(at(['mqtt', 'embedded', 'port']));
      served.mqttUrl = served.broker.url;
    }
    for (const [i, f] of here) if (f.sink) await startFunction(wf, f, served, log, startFailure(wf, i, f));
    served.deployments = await Deployments.restore(wf, served, saved, log);
    await served.zipper.listen().catch((e: Error) => at(['listen', Math.max(0, wf.listen.findIndex((a) => e.message.includes(new URL(a).host)))])(e));
    if (wf.metrics) served.metrics = await startMetricsServer(workflowMetrics(served), wf.metrics).catch(at(['metrics', 'port']));
    if (wf.dashboard) {
      const [{ startDashboard }, { liveSourceOf }, { loadBaseMap }] = await Promise.all([import('../dashboard/server.ts'), import('../dashboard/live-source.ts'), import('../dashboard/base-map.ts')]);
      served.dashboard = await startDashboard({ ...wf.dashboard, name: wf.name, live: liveSourceOf(wf, served.broker?.wsUrl), baseMap: loadBaseMap(wf), status: workflowStatus(wf, served), fleet: served.fleet?.index, log: logger('dashboard') }).catch(at(['dashboard', 'port']));
    }
    opts.onListening?.(served);
    for (const [i, s] of wf.sources.entries()) {
      const address = s.zipper ?? 'port://zipper';
      const label = `source "${s.name}"`;
      const data: SourceData = {
        kind: 'source',
        name: s.name,
        run: s.run,
        params: s.params ?? {},
        baseDir: wf.dir,
        zipper: address,
        certHash: served.zipper.tls.certHash,
        mqtt: served.mqttUrl ? { url: served.mqttUrl, ...(wf.mqtt?.kind === 'external' ? { username: wf.mqtt.username, password: wf.mqtt.password } : {}) } : undefined,
        token: wf.auth?.token,
      };
      // over a message port by default: a QUIC client of @matrixai/quic in a worker thread can take the whole
      // process down natively (an idle one after ~25 s, any one at the thread's exit). A simulation or a replay
      // is geoflux's own code and shares a host thread (an isolate less); a user's module needs an isolate of
      // its own, a device listener keeps one (HOSTED_SOURCES), and so does a source given its own `zipper:`
      // address, which it dials: a host thread exits at every restart a neighbour's hang causes, which would
      // put such a client's exit beside every function's
      const hosted = HOSTED_SOURCES.has(s.run) && !s.zipper;
      const thread = hosted ? served.hosts.instance(label, data, DEFAULT_TIMEOUT) : moduleThread(served, label, { ...data, logLevel: logLevel() });
      await thread.start().catch((e: Error) => {
        const param = paramPath(e);
        throw fieldError(wf, ['sources', i, ...(param ? ['params', ...param] : ['run'])], `source "${s.name}" could not start: ${e.message}`);
      });
      served.sourceThreads.push({ source: s.name, thread });
      log.info(`source "${s.name}": ${s.run} via ${address}, ${thread instanceof HostedInstance ? `in ${thread.hostLabel}` : 'in a thread of its own'}`);
    }
  } catch (e) {
    // what did start saves nothing: its instances may not have read the state saved last time yet
    await stopped(0, false);
    throw e;
  }
  return served;
}

/** a workflow function's start-up failure, at the file, line and field it is about */
const startFailure = (wf: Workflow, i: number, f: WorkflowFunction) => (e: Error) => fieldError(wf, ['functions', i, ...blame(wf, f, e)], `function "${f.name}" could not start: ${e.message}`);

/**
 * Starts a function's local instances; `failed` says why one could not start (where the function came from).
 * `parked`: what the function left when it parked: the state its instances in threads start with, given
 * before they join, and its kernel as its host kept it.
 */
export async function startFunction(wf: Workflow, f: WorkflowFunction, served: ServedWorkflow, log: Logger, failed: (e: Error) => Error, parked?: Parked): Promise<void> {
  const timeout = f.timeout ?? DEFAULT_TIMEOUT;
  const what = f.sink ? `a ${f.sink} sink` : (f.run ?? `kernel ${f.kernel}`);
  const conn = { zipper: served.zipper.memoryUrl, token: wf.auth?.token };
  const spec = { name: f.name, observe: f.observe, emit: f.emit, params: f.params };
  for (let n = 0; n < f.instances; n++) {
    const label = `${functionLabel(f.name)}${f.instances > 1 ? ` #${n + 1}` : ''}`;
    if (f.sink || timeout === 0 || f.run === FLEET_BUILTIN) {
      // in this thread: a sink and the fleet are geoflux's own code; `timeout: 0` asks for it (the fastest path, unguarded)
      await (await import('./zipper-thread-function.ts')).startInZipperThread(wf, f, served, spec, conn, failed);
      continue;
    }
    const data = { ...spec, run: f.run, kernel: f.kernel ? { kernel: f.kernel, params: f.params, batch: f.batch, wasi: f.wasi, baseDir: wf.dir } : undefined, baseDir: wf.dir, token: wf.auth?.token };
    const thread = ownCode(f) ? served.hosts.instance(label, data, timeout, parked?.states, parked?.kernel) : moduleThread(served, label, { kind: 'function', ...data, logLevel: logLevel() }, timeout);
    await thread.start().catch((e: Error) => Promise.reject(failed(e)));
    if (parked && !ownCode(f)) await thread.ask({ geoflux: 'import-state', bytes: parked.states });
    served.functionThreads.push({ fn: f.name, thread });
  }
  const where = f.sink || timeout === 0 || f.run === FLEET_BUILTIN ? 'in the zipper\'s thread' : ownCode(f) ? 'in the host threads' : f.instances > 1 ? 'in threads of their own' : 'in a thread of its own';
  log.about(f.name).info(`${functionLabel(f.name)}: ${f.instances} local instance${f.instances > 1 ? 's' : ''} of ${what}, ${where}`);
}

/** geoflux's own code, which shares the host threads: a kernel (WebAssembly is its sandbox) or a builtin; a user's JavaScript needs an isolate of its own */
const ownCode = (f: WorkflowFunction) => f.kernel !== undefined || isBuiltin(f.run);

/** the param a start-up failure names, as a path within params (a kernel's schema problem, a source's missing file) */
const paramPath = (e: Error): (string | number)[] | undefined => (e as Error & { problems?: { path: (string | number)[] }[] }).problems?.[0]?.path;

/** the field a start-up failure is about: a param it names (a kernel's, a file), else what runs */
function blame(wf: Workflow, f: WorkflowFunction, e: Error): string[] {
  // a .wasm kernel's params are checked against its schema only once it runs (the loader runs no user
  // code): the error says which params it is about, also from a function's own thread
  const param = paramPath(e)?.[0];
  if (typeof param === 'string' && f.params && param in f.params) return ['params', param];
  const file = Object.entries(f.params ?? {}).find(([, v]) => typeof v === 'string' && v.length > 0 && e.message.includes(resolve(wf.dir, v)));
  return file ? ['params', file[0]] : [f.sink ? 'sink' : f.run ? 'run' : 'kernel'];
}

/**
 * Closes a function's local instances (each finishes what it holds first) and forgets them. `park`: the
 * function parks, so the host of its first instance in the host threads keeps what made its kernel, for the
 * wake (what this returns).
 */
export async function stopFunction(served: ServedWorkflow, name: string, drainTimeout = 5000, park = false): Promise<KeptKernel | undefined> {
  const threads = served.functionThreads.filter((f) => f.fn === name);
  const here = served.functions.filter((f) => f.fn === name);
  served.functionThreads = served.functionThreads.filter((f) => f.fn !== name);
  served.functions = served.functions.filter((f) => f.fn !== name);
  const timeout = Math.max(drainTimeout, 1000);
  let kept: Promise<KeptKernel | undefined> | undefined;
  const closing = [
    ...threads.map((f) => retire(served, f.fn, () => instanceCounts(f.thread), park && !kept && f.thread instanceof HostedInstance ? (kept = f.thread.park(timeout)) : f.thread.close(timeout))),
    ...here.map((f) => retire(served, f.fn, () => ({ total: hereCounts(f.sfn, f.kernel), restarts: {} }), f.sfn.close())),
  ];
  await Promise.allSettled(closing);
  return kept;
}

/** `closed`, what it closes counted kept in `served.retired` */
export function retire(served: ServedWorkflow, fn: string, read: () => Counted, closed: Promise<unknown>): Promise<unknown> {
  served.retired.retire(fn, read, closed);
  return closed;
}

const moduleThread = (served: ServedWorkflow, label: string, workerData: LocalWorkerData, watchdog = DEFAULT_TIMEOUT) =>
  new ModuleThread({ label, callerUrl: import.meta.url, entry: './local-worker', workerData, watchdog, attach: (ch) => served.zipper.attach(ch), log: logger('serve').about(workerData.name), lines: (line) => served.logs.add(workerData.name, line) });

/** ms the functions get, past the drain's time, to close (their connections, what they emitted flushed): then their threads are ended */
const CLOSE_MARGIN = 1000;

/**
 * The steps share one deadline, each taking what those before it left: a function that hangs costs the
 * drain's time once. With a time of their own each, a hung function's (the trial's `tagger`, its upstream
 * waiting for it to take its last output, then it) made a Ctrl-C take 17 s against `--drain-timeout` 5000.
 * `save`: the kernels' state is saved for the next start (not when serve failed to start).
 */
async function stop(wf: Workflow, served: ServedWorkflow, drainTimeout: number, log: Logger, save: boolean): Promise<void> {
  const drained = Date.now() + drainTimeout;
  const closed = drained + CLOSE_MARGIN;
  const left = (until: number) => Math.max(0, until - Date.now());
  served.deployments?.close();
  // a thread that hangs from now on is ended, not started again: what it held is lost at close, or kept by its writer
  // (hosted sources and instances: by their hosts)
  for (const s of [...served.sourceThreads, ...served.functionThreads]) if (s.thread instanceof ModuleThread) s.thread.endRestarts();
  served.hosts?.endRestarts();
  await Promise.allSettled(served.sourceThreads.map((s) => s.thread.close(left(closed))));
  // a bridge that never reached NATS will handle nothing more: waiting for it would only spend the drain
  if (served.cloud && !served.cloud.stats().connected) await served.cloud.close(0);
  // functions leave once what they hold is handled, so they do not take the zipper's goodbye for a crash
  await served.zipper?.drain(left(drained));
  // a function finishing emits what it still held (a map matcher its last fixes) and waits for the functions
  // that observe it to take it: those must still be there, so upstream closes first
  const functions = [...wf.functions, ...(served.deployments?.functions() ?? [])];
  // a kernel's instances (in the host threads) save their devices' state for the next start, once they have flushed
  const saved = new SavedStates(wf, save ? functions : [], log);
  for (const p of served.deployments?.parkedStates() ?? []) saved.addParked(p.fn, p.states);
  for (const wave of closingOrder(functions)) {
    const closing = new Set(wave);
    // one being woken from zero as serve began to stop is closed once it runs (none is woken after: ScaleToZero.stop)
    await served.deployments?.wakesDone(closing);
    await Promise.allSettled([
      ...served.functionThreads.filter((f) => closing.has(f.fn)).map((f) => (f.thread instanceof HostedInstance && saved.saves(f.fn) ? f.thread.closeSaving(left(closed)).then((s) => saved.add(f.fn, s)) : f.thread.close(left(closed)))),
      ...served.functions.filter((f) => closing.has(f.fn)).map((f) => f.sfn.close(left(closed))),
    ]);
    await saved.write();
  }
  await served.hosts?.close(left(closed));
  await served.cloud?.close(left(closed));
  // the ids are kept only when every event the sinks took went out: an id kept whose event was not would drop its resend
  // the sinks share the deadline too, with a second at least: the events they hold are made already
  const sinkMs = drainTimeout ? Math.max(left(closed), 1000) : 0;
  const published = (await Promise.all(served.sinks.map((s) => s.sink.flush(sinkMs)))).every(Boolean);
  await Promise.allSettled(served.sinks.map((s) => s.sink.close(Math.min(sinkMs, left(closed)))));
  if (served.sinks.length && published) await served.repeats.save().catch((e: Error) => logger('serve').warn(`the sinks' ids not kept (${e.message}): events resent after the restart may be published twice`));
  else if (served.sinks.length) logger('serve').warn("the sinks' ids not kept: not everything they took was published; events resent after the restart may be published twice");
  await served.zipper?.close(0);
  await served.metrics?.close();
  await served.dashboard?.close();
  await served.broker?.close();
  served.logs.close();
}

/** The functions' names in waves: each function after every function whose emits it observes; a cycle's functions close together. */
function closingOrder(functions: WorkflowFunction[]): string[][] {
  const feeds = (from: WorkflowFunction, to: WorkflowFunction) => from !== to && to.observe.some((t) => from.emit.includes(t));
  const waves: string[][] = [];
  const closed = new Set<string>();
  let left = functions;
  while (left.length) {
    const ready = left.filter((f) => functions.every((u) => closed.has(u.name) || !feeds(u, f)));
    const wave = ready.length ? ready : left;
    waves.push(wave.map((f) => f.name));
    for (const f of wave) closed.add(f.name);
    left = left.filter((f) => !closed.has(f.name));
  }
  return waves;
}

