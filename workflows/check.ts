import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isBuiltinKernel, unknownKernel } from '../kernels/host/builtin-wasm.ts';
import { kernelParamProblems } from '../kernels/param-check.ts';
import { BUILTIN_FUNCTIONS } from '../sfn/builtins/index.ts';
import { FLEET_BUILTIN, fleetParams } from '../query/fleet-params.ts';
import { BUILTIN_SOURCES, builtinSourceParamProblems } from '../source/builtin-sources.ts';
import { unknownBuiltin, type Builtins } from '../runtime/import-module.ts';
import { CLOUD_BRIDGE, clusterOptions } from '../cluster/cluster-options.ts';
import { SINK_KINDS } from '../sinks/sink-kinds.ts';
import { FIRST_USER_TAG } from '../zipper/router.ts';
import type { Made } from '../codecs/shape-check.ts';
import { normaliseListen } from './address.ts';
import { closest, didYouMean } from './errors.ts';
import { DASHBOARD, EMBEDDED_MQTT, FUNCTION_KEYS, type DashboardConfig, type Dispatch, type MqttConfig, type Workflow, type WorkflowFunction, type workflowSchema } from './schema.ts';

/** A problem at a path; `at` says whether to point at the field's key (default) or its value. */
export interface Problem {
  path: (string | number)[];
  reason: string;
  at?: 'key' | 'value';
}

const MAX_TAG = 0xffffffff;

const resolveFrom = (dir: string, p: string) => (p.startsWith('builtin:') || isAbsolute(p) ? p : resolve(dir, p));
const list = (x: string | string[] | undefined) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/** What a schema cannot say: addresses parse (and are normalised), tags exist and are free, names are unique, no loops. */
export function checkWorkflow(raw: Made<typeof workflowSchema>, dir: string): { workflow: Omit<Workflow, 'file' | 'dir'>; problems: Problem[] } {
  const problems: Problem[] = [];
  const bad = (path: Problem['path'], reason: string, at: Problem['at'] = 'key') => problems.push({ path, reason, at });

  const listen = raw.listen.map((addr, i) => {
    const r = normaliseListen(addr);
    if ('address' in r) return r.address;
    bad(['listen', i], r.reason, 'value');
    return addr;
  });

  const byNumber = new Map<number, string>();
  for (const [tag, n] of Object.entries(raw.tags)) {
    if (!/^[a-z][a-z0-9_-]*$/i.test(tag)) bad(['tags', tag], 'a tag name starts with a letter and uses only letters, digits, "-" and "_"');
    else if (n < FIRST_USER_TAG) bad(['tags', tag], `tag number ${n} is reserved for the zipper (use ${FIRST_USER_TAG} or more)`, 'value');
    else if (n > MAX_TAG) bad(['tags', tag], `tag number ${n} does not fit in 32 bits`, 'value');
    else if (byNumber.has(n)) bad(['tags', tag], `tag number ${n} is already used by "${byNumber.get(n)}"`, 'value');
    else byNumber.set(n, tag);
  }
  const tagNames = Object.keys(raw.tags);
  const checkTags = (path: Problem['path'], tags: string[]) => {
    for (const t of tags) if (!(t in raw.tags)) bad(path, `unknown tag "${t}"${didYouMean(t, tagNames)}`);
  };

  const seen = new Set<string>();
  const functions: WorkflowFunction[] = raw.functions.map((f, i) => {
    const at = (k: string) => ['functions', i, k];
    if (seen.has(f.name)) bad(at('name'), `function "${f.name}" is declared twice`, 'value');
    seen.add(f.name);
    for (const key of Object.keys(f)) {
      const near = FUNCTION_KEYS.includes(key) ? undefined : closest(key, FUNCTION_KEYS);
      if (near) bad(at(key), `unknown field (did you mean "${near}"?)`);
    }
    const observe = list(f.observe);
    const emit = list(f.emit);
    if (observe.length === 0) bad(at('observe'), 'must name at least one tag');
    checkTags(at('observe'), observe);
    checkTags(at('emit'), emit);
    for (const t of emit) if (observe.includes(t)) bad(at('emit'), `"${t}" is also observed by this function (a loop)`);
    // a sink publishes from inside the zipper's process: it is local unless the file says otherwise
    const host = f.host ?? (f.sink ? 'local' : 'remote');
    if (host === 'local' && !f.run && !f.kernel && !f.sink) bad(at('host'), 'a local function needs "run" (a module), "kernel" or "sink"');
    if (f.sink) {
      if (f.run || f.kernel) bad(at('sink'), `a sink publishes what it observes; it does not also run a ${f.run ? 'module' : 'kernel'}`);
      if (emit.length) bad(at('emit'), `a sink emits nothing (it publishes to ${f.sink === 'mqtt' ? 'MQTT' : f.sink.toUpperCase()})`);
      if (host === 'remote') bad(at('host'), 'a sink runs in the zipper\'s process (host: local)', 'value');
      for (const p of SINK_KINDS[f.sink].paramProblems(f.params ?? {})) bad([...at('params'), ...p.path], p.reason, p.at ?? 'value');
    }
    const dispatch: Dispatch = f.dispatch === undefined || f.dispatch === 'balance' ? { kind: 'balance' } : { kind: 'partition', key: f.dispatch.partition };
    const kernel = f.kernel?.endsWith('.wasm') ? resolveFrom(dir, f.kernel) : f.kernel;
    if (f.run && f.kernel) bad(at('kernel'), 'a function runs either a module ("run") or a kernel, not both');
    if (f.kernel && !f.kernel.endsWith('.wasm') && !isBuiltinKernel(f.kernel)) {
      bad(at('kernel'), unknownKernel(f.kernel), 'value');
    }
    if (kernel?.endsWith('.wasm') && !existsSync(kernel)) bad(at('kernel'), `no such file: ${kernel}`, 'value');
    if (f.kernel === 'roam' && (f.instances ?? 1) > 1) bad(at('instances'), 'roam compares each device with those near it, so one instance must see every device: two would never compare a pair split between them (docs/kernels.md#roam)', 'value');
    // a built-in kernel's params against its declared schema; a .wasm file's are checked when it starts
    if (f.kernel) for (const p of kernelParamProblems(f.kernel, f.params ?? {})) bad([...at('params'), ...p.path], p.reason, p.at ?? 'value');
    if (f.run === FLEET_BUILTIN) checkFleet(f, raw.functions.findIndex((g) => g.run === FLEET_BUILTIN) !== i, Boolean(raw.dashboard), (k, reason) => bad(['functions', i, ...k], reason, 'value'));
    else checkBuiltin(f.run, BUILTIN_FUNCTIONS, 'function', (reason) => bad(at('run'), reason, 'value'), [FLEET_BUILTIN]);
    checkModule(f.run && resolveFrom(dir, f.run), (reason) => bad(at('run'), reason, 'value'));
    const where = f.where ?? 'edge';
    if (where === 'cloud') {
      if (!raw.cluster) bad(at('where'), 'runs on the cluster\'s workers: add a cluster: section (cluster: { nats: nats://host:4222 })', 'value');
      if (f.host === 'remote') bad(at('host'), 'a cloud function runs in `geoflux worker` (host: local, the default there)', 'value');
      else if (f.run || (!f.kernel && !f.sink)) bad(at(f.run ? 'run' : 'where'), 'a cloud function runs a kernel or is a sink (a worker moves kernels\' per-device state with their partitions; a module\'s it cannot)', 'value');
      else if (f.kernel === 'hotspot' || f.kernel === 'roam') bad(at('kernel'), `${f.kernel} sees every device at once (${f.kernel === 'hotspot' ? 'its windows are per cell' : 'its pairs cross partitions'}), so it cannot be split into partitions: run it at the edge`, 'value');
      if (dispatch.kind === 'partition' && dispatch.key !== 'deviceId') bad(at('dispatch'), 'a cloud function is partitioned by deviceId (each worker holds whole partitions)', 'value');
      if ((f.instances ?? 1) > 1) bad(at('instances'), 'a cloud function runs once on each worker, over the partitions it holds: start more `geoflux worker`s instead', 'value');
    }
    return { ...f, observe, emit, dispatch, instances: f.instances ?? 1, host: where === 'cloud' ? 'local' : host, run: f.run && resolveFrom(dir, f.run), kernel, where };
  });
  if (raw.cluster) {
    // a worker's outputs reach the edge only through a sink: an edge function cannot observe them
    const cloudEmits = new Map(functions.filter((f) => f.where === 'cloud').flatMap((f) => f.emit.map((t) => [t, f.name] as const)));
    for (const [i, f] of functions.entries()) {
      if (f.where === 'cloud') continue;
      const t = f.observe.find((tag) => cloudEmits.has(tag));
      if (t) bad(['functions', i, 'observe'], `observes "${t}", which cloud function "${cloudEmits.get(t)}" emits on the workers: make it where: cloud too`);
    }
    // the stream takes every subject under its name: alerts published there would come back as fixes
    const stream = clusterOptions(raw.cluster, { name: raw.name, dir }).options?.stream;
    for (const [i, f] of functions.entries()) {
      const subject = f.sink === 'nats' ? String(f.params?.subject ?? '') : '';
      if (stream && subject.startsWith(`${stream}.`)) bad(['functions', i, 'params', 'subject'], `is under the cluster's stream "${stream}" (it takes every ${stream}.> subject): choose another prefix`, 'value');
    }
    const bridge = functions.findIndex((f) => f.name === CLOUD_BRIDGE);
    if (bridge >= 0) bad(['functions', bridge, 'name'], `"${CLOUD_BRIDGE}" is the name of the function that carries fixes to the cluster: choose another`, 'value');
  }
  const cluster = raw.cluster === undefined ? undefined : clusterOptions(raw.cluster, { name: raw.name, dir });
  for (const p of cluster?.problems ?? []) bad(p.path, p.reason, p.at ?? 'value');

  const sourceNames = new Set<string>();
  const sources = (raw.sources ?? []).map((s, i) => {
    if (sourceNames.has(s.name)) bad(['sources', i, 'name'], `source "${s.name}" is declared twice`, 'value');
    sourceNames.add(s.name);
    checkBuiltin(s.run, BUILTIN_SOURCES, 'source', (reason) => bad(['sources', i, 'run'], reason, 'value'));
    if (s.run.startsWith('builtin:')) for (const p of builtinSourceParamProblems(s.run.slice('builtin:'.length), s.params ?? {})) bad(['sources', i, 'params', ...p.path], p.reason, p.at ?? 'value');
    checkModule(resolveFrom(dir, s.run), (reason) => bad(['sources', i, 'run'], reason, 'value'));
    return { ...s, run: resolveFrom(dir, s.run) };
  });

  let mqtt: MqttConfig | undefined;
  const m = raw.mqtt;
  if (m?.url && m.embedded) bad(['mqtt', 'embedded'], 'use either url (an external broker) or embedded, not both');
  else if (m?.url) {
    mqtt = {
      kind: 'external',
      url: m.url,
      username: m.username,
      password: m.password,
      clientId: m.clientId,
      protocolVersion: m.protocol === '3.1.1' || m.protocol === undefined ? 4 : 5,
      tls: m.tls && { ...m.tls, ca: m.tls.ca && resolve(dir, m.tls.ca), cert: m.tls.cert && resolve(dir, m.tls.cert), key: m.tls.key && resolve(dir, m.tls.key) },
    };
  } else if (m || functions.some((f) => f.sink && SINK_KINDS[f.sink].usesMqtt)) {
    for (const k of ['username', 'password', 'clientId', 'protocol', 'tls'] as const) if (m?.[k] !== undefined) bad(['mqtt', k], 'is for an external broker (set mqtt.url); the embedded one takes embedded: { host, port, ws }');
    mqtt = { kind: 'embedded', host: m?.embedded?.host ?? EMBEDDED_MQTT.host, port: m?.embedded?.port ?? EMBEDDED_MQTT.port, wsPort: m?.embedded?.ws ?? EMBEDDED_MQTT.wsPort };
  }

  let dashboard: DashboardConfig | undefined;
  if (raw.dashboard) {
    dashboard = { host: raw.dashboard.host ?? DASHBOARD.host, port: raw.dashboard.port ?? DASHBOARD.port, mqtt: raw.dashboard.mqtt };
    if (mqtt?.kind === 'embedded' && mqtt.wsPort === false) bad(['dashboard'], 'the page takes its live data over MQTT over WebSocket: give the embedded broker one (mqtt.embedded.ws), or set dashboard: false');
    if (raw.dashboard.mqtt && mqtt?.kind !== 'external') bad(['dashboard', 'mqtt'], "is an external broker's WebSocket URL (set mqtt.url); the embedded broker's is known");
  }

  const clientCa = raw.auth?.clientCa && resolve(dir, raw.auth.clientCa);
  if (clientCa && !existsSync(clientCa)) bad(['auth', 'clientCa'], `no such file: ${clientCa}`, 'value');
  // the control channel deploys code: a source's token must not also do that
  if (raw.control && raw.control.token === raw.auth?.token) bad(['control', 'token'], 'must differ from auth.token (the control channel has a credential of its own)', 'value');
  const { state, metrics: m2, ...rest } = raw;
  return {
    workflow: {
      ...rest,
      auth: raw.auth && { ...raw.auth, ...(clientCa ? { clientCa } : {}) },
      stateDir: resolve(dir, state ?? '.geoflux'),
      ...(m2 ? { metrics: { host: m2.host ?? '127.0.0.1', port: m2.port } } : {}),
      mqtt,
      dashboard,
      listen,
      tls: raw.tls && { cert: resolve(dir, raw.tls.cert), key: resolve(dir, raw.tls.key) },
      functions,
      sources,
      cluster: cluster?.options,
    },
    problems,
  };
}

/** the fleet's index lives in serve's process, one per workflow, where the dashboard's server answers from it */
function checkFleet(f: Made<typeof workflowSchema>['functions'][number], again: boolean, dashboard: boolean, bad: (path: (string | number)[], reason: string) => void): void {
  if (again) bad(['run'], 'a workflow keeps one fleet index (the dashboard answers /v1/ from it)');
  else if (!dashboard) bad(['run'], 'the fleet is asked over the dashboard\'s HTTP server (/v1/): add dashboard: { port: 8080 } (0 for any port)');
  if (f.host !== 'local') bad(['host'], 'the fleet runs in serve\'s process, beside the dashboard that answers from it: host: local');
  if ((f.instances ?? 1) > 1) bad(['instances'], 'one index sees the whole fleet: instances: 1');
  if (f.where === 'cloud') bad(['where'], 'the fleet runs at the edge, beside the dashboard that answers from it');
  if (list(f.emit).length) bad(['emit'], 'the fleet emits nothing: it answers queries (docs/query.md)');
  for (const p of fleetParams(f.params ?? {}).problems) bad(['params', ...p.path], p.reason);
}

/** a module path a workflow names (not a builtin) that is not there */
function checkModule(path: string | undefined, bad: (reason: string) => void): void {
  if (path && !path.startsWith('builtin:') && !existsSync(path)) bad(`no such module: ${path}`);
}

/** `hosted`: builtins serve runs itself (not loadable modules) */
function checkBuiltin(run: string | undefined, builtins: Builtins<unknown>, what: string, bad: (reason: string) => void, hosted: string[] = []): void {
  if (!run?.startsWith('builtin:')) return;
  const name = run.slice('builtin:'.length);
  const names = [...Object.keys(builtins), ...hosted.map((h) => h.slice('builtin:'.length))];
  if (!names.includes(name)) bad(unknownBuiltin(name, builtins, what, hosted));
}
