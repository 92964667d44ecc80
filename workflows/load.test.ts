import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadWorkflow, parseWorkflow } from './load.ts';
import { WorkflowError } from './errors.ts';

const BAD = 'workflows/testdata/bad';

/** Every bad file, with the exact message a user sees. */
const expected: [file: string, message: string][] = [
  ['bad-dispatch.yaml', 'workflows/testdata/bad/bad-dispatch.yaml:7:15 functions[0].dispatch: expected "balance" or { partition: <metadata key> }'],
  ['control-autoscale-zero.yaml', 'workflows/testdata/bad/control-autoscale-zero.yaml:5:25 control.autoscale.backlog: must be more than 0'],
  ['control-same-token.yaml', 'workflows/testdata/bad/control-same-token.yaml:4:19 control.token: must differ from auth.token (the control channel has a credential of its own)'],
  ['bad-listen-scheme.yaml', 'workflows/testdata/bad/bad-listen-scheme.yaml:4:5 listen[1]: unsupported scheme "http" (use quic:// or webtransport://)'],
  ['cloud-without-cluster.yaml', "workflows/testdata/bad/cloud-without-cluster.yaml:8:12 functions[0].where: runs on the cluster's workers: add a cluster: section (cluster: { nats: nats://host:4222 })"],
  ['cloud-module.yaml', "workflows/testdata/bad/cloud-module.yaml:10:10 functions[0].run: a cloud function runs a kernel or is a sink (a worker moves kernels' per-device state with their partitions; a module's it cannot)"],
  ['cloud-subject-in-stream.yaml', 'workflows/testdata/bad/cloud-subject-in-stream.yaml:16:24 functions[1].params.subject: is under the cluster\'s stream "city" (it takes every city.> subject): choose another prefix'],
  ['cluster-bad-url.yaml', 'workflows/testdata/bad/cluster-bad-url.yaml:4:9 cluster.nats: a NATS server URL: nats://host[:port] or tls://host[:port]'],
  ['edge-observes-cloud.yaml', 'workflows/testdata/bad/edge-observes-cloud.yaml:13:5 functions[1].observe: observes "fences", which cloud function "yard" emits on the workers: make it where: cloud too'],
  ['dashboard-bad-port.yaml', 'workflows/testdata/bad/dashboard-bad-port.yaml:5:9 dashboard.port: must be at most 65535'],
  ['dashboard-key-typo.yaml', 'workflows/testdata/bad/dashboard-key-typo.yaml:4:14 dashboard.prot: unknown field (did you mean "port"?)'],
  ['dashboard-without-ws.yaml', 'workflows/testdata/bad/dashboard-without-ws.yaml:7:1 dashboard: the page takes its live data over MQTT over WebSocket: give the embedded broker one (mqtt.embedded.ws), or set dashboard: false'],
  ['duplicate-function.yaml', 'workflows/testdata/bad/duplicate-function.yaml:7:11 functions[1].name: function "speeding" is declared twice'],
  ['function-name-too-long.yaml', "workflows/testdata/bad/function-name-too-long.yaml:5:11 functions[0].name: has at most 100 characters (its state is saved to a file of its name)"],
  ['duplicate-key.yaml', 'workflows/testdata/bad/duplicate-key.yaml:4:1 (yaml): Map keys must be unique'],
  ['duplicate-tag-number.yaml', 'workflows/testdata/bad/duplicate-tag-number.yaml:5:13 tags.speeding: tag number 16 is already used by "gps"'],
  ['emit-loop.yaml', 'workflows/testdata/bad/emit-loop.yaml:7:5 functions[0].emit: "gps" is also observed by this function (a loop)'],
  ['first-in-document-order.yaml', 'workflows/testdata/bad/first-in-document-order.yaml:3:1 lisen: unknown field (did you mean "listen"?)'],
  ['function-key-typo.yaml', 'workflows/testdata/bad/function-key-typo.yaml:6:5 functions[0].obsrve: unknown field (did you mean "observe"?)'],
  ['kernel-param-enum.yaml', 'workflows/testdata/bad/kernel-param-enum.yaml:9:57 functions[0].params.detect[1]: expected one of "enter", "exit", "inside", "outside", "cross", "dwell", got string "exitt" (did you mean "exit"?)'],
  ['kernel-param-missing.yaml', 'workflows/testdata/bad/kernel-param-missing.yaml:9:13 functions[0].params.network: required param is missing (the road network: an OSM PBF, or a Kubička network (prefix or directory))'],
  // the misspelling, not the param missing for want of it (which points at the function, earlier)
  ['kernel-params-key-typo.yaml', 'workflows/testdata/bad/kernel-params-key-typo.yaml:9:5 functions[0].param: unknown field (did you mean "params"?)'],
  ['kernel-param-range.yaml', 'workflows/testdata/bad/kernel-param-range.yaml:9:25 functions[0].params.cellSize: must be more than 0'],
  ['kernel-param-type.yaml', 'workflows/testdata/bad/kernel-param-type.yaml:9:45 functions[0].params.weightBySpeed: expected true or false, got string "yes"'],
  ['kernel-param-typo.yaml', 'workflows/testdata/bad/kernel-param-typo.yaml:16:7 functions[1].params.detcet: unknown param (did you mean "detect"?)'],
  ['local-without-run.yaml', 'workflows/testdata/bad/local-without-run.yaml:7:5 functions[0].host: a local function needs "run" (a module), "kernel" or "sink"'],
  ['missing-name.yaml', 'workflows/testdata/bad/missing-name.yaml:1:1 name: required field is missing'],
  ['missing-port.yaml', 'workflows/testdata/bad/missing-port.yaml:2:10 listen[0]: needs a port, e.g. quic://127.0.0.1:9000'],
  ['mqtt-bad-url.yaml', 'workflows/testdata/bad/mqtt-bad-url.yaml:5:8 mqtt.url: an MQTT broker URL: mqtt://, mqtts://, ws:// or wss://host[:port]'],
  ['mqtt-url-and-embedded.yaml', 'workflows/testdata/bad/mqtt-url-and-embedded.yaml:6:3 mqtt.embedded: use either url (an external broker) or embedded, not both'],
  ['nested-key-typo.yaml', 'workflows/testdata/bad/nested-key-typo.yaml:7:5 sources[0].parms: unknown field (did you mean "params"?)'],
  ['port-out-of-range.yaml', 'workflows/testdata/bad/port-out-of-range.yaml:3:5 listen[0]: port 94430 is out of range (0-65535)'],
  ['reserved-tag.yaml', 'workflows/testdata/bad/reserved-tag.yaml:4:8 tags.gps: tag number 3 is reserved for the zipper (use 16 or more)'],
  ['sink-bad-qos.yaml', 'workflows/testdata/bad/sink-bad-qos.yaml:8:47 functions[0].params.qos: QoS is 0, 1 or 2'],
  ['sink-state-wildcard.yaml', 'workflows/testdata/bad/sink-state-wildcard.yaml:8:36 functions[0].params.state: true (geoflux/state/{deviceId}), false, or a topic template without wildcards'],
  ['where-typo.yaml', 'workflows/testdata/bad/where-typo.yaml:9:12 functions[0].where: expected one of "edge", "cloud", got string "clod" (did you mean "cloud"?)'],
  ['sink-unknown.yaml', 'workflows/testdata/bad/sink-unknown.yaml:7:11 functions[0].sink: expected one of "mqtt", "nats", got string "kafka"'],
  ['sink-with-emit.yaml', 'workflows/testdata/bad/sink-with-emit.yaml:7:5 functions[0].emit: a sink emits nothing (it publishes to MQTT)'],
  ['unknown-builtin.yaml', 'workflows/testdata/bad/unknown-builtin.yaml:9:10 functions[0].run: unknown built-in function "builtin:speding" (built-in functions: builtin:congestion, builtin:printer, builtin:speeding, builtin:fleet) (did you mean "builtin:speeding"?)'],
  ['unknown-builtin-source.yaml', 'workflows/testdata/bad/unknown-builtin-source.yaml:6:10 sources[0].run: unknown built-in source "builtin:rng" (built-in sources: builtin:traffic, builtin:replay, builtin:osmand, builtin:teltonika, builtin:nmea, builtin:owntracks)'],
  ['unknown-kernel.yaml', 'workflows/testdata/bad/unknown-kernel.yaml:9:13 functions[0].kernel: unknown kernel "geofense" (did you mean "geofence"?) (built-in: geofence, hotspot, mapmatch, roam; or a path to a .wasm file)'],
  ['roam-instances.yaml', 'workflows/testdata/bad/roam-instances.yaml:9:16 functions[0].instances: roam compares each device with those near it, so one instance must see every device: two would never compare a pair split between them (docs/kernels.md#roam)'],
  ['missing-wasm.yaml', `workflows/testdata/bad/missing-wasm.yaml:9:13 functions[0].kernel: no such file: ${resolve('workflows/testdata/bad/kernels/mine.wasm')}`],
  ['missing-module.yaml', `workflows/testdata/bad/missing-module.yaml:9:10 functions[0].run: no such module: ${resolve('workflows/testdata/bad/my-sfn.ts')}`],
  ['unknown-tag.yaml', 'workflows/testdata/bad/unknown-tag.yaml:14:5 functions[1].observe: unknown tag "gsp" (did you mean "gps"?)'],
  ['unknown-top-level-key.yaml', 'workflows/testdata/bad/unknown-top-level-key.yaml:3:1 lisen: unknown field (did you mean "listen"?)'],
  ['unset-env.yaml', 'workflows/testdata/bad/unset-env.yaml:4:10 auth.token: environment variable GEOFLUX_TEST_UNSET_TOKEN is not set (use ${GEOFLUX_TEST_UNSET_TOKEN:-default} for a default)'],
  ['wrong-type.yaml', 'workflows/testdata/bad/wrong-type.yaml:2:9 listen: expected a list, got string "quic://127.0.0.1:9000"'],
  ['env-in-flow-map.yaml', 'workflows/testdata/bad/env-in-flow-map.yaml:4:20 (yaml): Unexpected flow-map-start at node end (quote a ${VAR:-default} inside { } or [ ]: token: "${GEOFLUX_CONTROL_TOKEN:-dev-control}")'],
  ['env-in-flow-list.yaml', 'workflows/testdata/bad/env-in-flow-list.yaml:3:28 (yaml): Missing , or : between flow sequence items (quote a ${VAR:-default} inside { } or [ ]: "quic://127.0.0.1:${PORT:-9000}")'],
  ['yaml-syntax.yaml', 'workflows/testdata/bad/yaml-syntax.yaml:3:1 (yaml): Flow sequence in block collection must be sufficiently indented and end with a ]'],
];

describe('workflow errors name the file, line, column and field', () => {
  it.each(expected)('%s', async (file, message) => {
    const err = await loadWorkflow(`${BAD}/${file}`, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowError);
    expect((err as Error).message).toBe(message);
  });

  it('covers every file in testdata/bad', () => {
    expect(readdirSync(BAD).sort()).toEqual(expected.map(([f]) => f).sort());
  });

  it('the hint for an unquoted ${VAR:-default} is what mends it', () => {
    const mended = parseWorkflow('name: x\nlisten: ["quic://127.0.0.1:${PORT:-0}"]\ncontrol: { token: "${GEOFLUX_CONTROL_TOKEN:-dev-control}" }\ntags: { gps: 16 }\nfunctions: []\n', 'mended.yaml', {});
    expect([mended.listen, mended.control?.token]).toEqual([['quic://127.0.0.1:0'], 'dev-control']);
  });

  it('says when the file cannot be read', async () => {
    await expect(loadWorkflow('workflows/testdata/nope.yaml')).rejects.toThrow('workflows/testdata/nope.yaml:1:1 (file): cannot read: ENOENT');
    await expect(loadWorkflow('workflows/examples/clustr.yaml')).rejects.toThrow('workflows/examples/clustr.yaml:1:1 (file): cannot read: ENOENT (did you mean "cluster.yaml"?)');
  });
});

describe('the design-notes example', () => {
  const file = 'workflows/testdata/good/example.yaml';
  const dir = resolve('workflows/testdata/good');

  it('parses with every default filled in', async () => {
    expect(await loadWorkflow(file, { GEOFLUX_TOKEN: 't0k' })).toEqual({
      file: resolve(file),
      dir,
      name: 'demo',
      listen: ['quic://127.0.0.1:9000', 'webtransport://127.0.0.1:9443/geoflux'],
      tls: { cert: resolve(dir, 'certs/server.pem'), key: resolve(dir, 'certs/server.key') },
      auth: { token: 't0k' },
      tags: { gps: 16, speeding: 17 },
      functions: [
        { name: 'speeding', observe: ['gps'], emit: ['speeding'], dispatch: { kind: 'partition', key: 'deviceId' }, instances: 1, host: 'remote', where: 'edge' },
        { name: 'printer', observe: ['speeding'], emit: [], dispatch: { kind: 'balance' }, instances: 1, host: 'remote', where: 'edge' },
      ],
      sources: [],
      stateDir: resolve(dir, '.geoflux'),
    });
  });

  it('keeps an empty token (no auth) rather than calling the variable unset', async () => {
    expect((await loadWorkflow(file, { GEOFLUX_TOKEN: '' })).auth).toEqual({ token: '' });
  });
});

describe('a good workflow', () => {
  const wf = parseWorkflow(readFileSync('workflows/testdata/good/full.yaml', 'utf8'), 'workflows/testdata/good/full.yaml', {});

  it('fills defaults and normalises lists and dispatch', () => {
    expect(wf.name).toBe('demo');
    expect(wf.auth).toEqual({ token: 'dev-token' });
    expect(wf.functions[0]).toMatchObject({ observe: ['gps'], emit: ['speeding'], dispatch: { kind: 'partition', key: 'deviceId' }, instances: 2, host: 'local' });
    expect(wf.functions[1]).toMatchObject({ observe: ['speeding'], emit: [], dispatch: { kind: 'balance' }, instances: 1, host: 'remote', kernel: 'geofence', 'future-field': 'kept' });
  });

  it('resolves relative paths against the workflow file, and keeps builtins', () => {
    const dir = resolve('workflows/testdata/good');
    expect(wf.dir).toBe(dir);
    expect(wf.tls).toEqual({ cert: resolve(dir, 'certs/server.pem'), key: resolve(dir, 'certs/server.key') });
    expect(wf.functions[0].run).toBe(resolve(dir, '../../examples/speeding.ts'));
    expect(wf.sources[0].run).toBe('builtin:traffic');
  });

  it('substitutes environment variables', () => {
    const w = parseWorkflow(readFileSync('workflows/testdata/good/full.yaml', 'utf8'), 'workflows/testdata/good/full.yaml', { GEOFLUX_TOKEN: 's3cret' });
    expect(w.auth?.token).toBe('s3cret');
    // as in a shell, ${VAR:-default} also covers a variable set to nothing
    expect(parseWorkflow(readFileSync('workflows/testdata/good/full.yaml', 'utf8'), 'workflows/testdata/good/full.yaml', { GEOFLUX_TOKEN: '' }).auth?.token).toBe('dev-token');
  });

  it('gives a workflow with an MQTT sink the embedded broker unless it names one', () => {
    const base = 'name: m\nlisten: [quic://127.0.0.1:9000]\ntags: { alerts: 20 }\nfunctions:\n  - { name: out, observe: [alerts], sink: mqtt, params: { qos: 0, state: true } }\n';
    const embedded = parseWorkflow(base, 'm.yaml', {});
    expect(embedded.mqtt).toEqual({ kind: 'embedded', host: '127.0.0.1', port: 1883, wsPort: 8083 });
    expect(embedded.functions[0]).toMatchObject({ sink: 'mqtt', host: 'local', emit: [] });
    expect(parseWorkflow(base + 'mqtt: { embedded: { port: 0, ws: false } }\n', 'm.yaml', {}).mqtt).toEqual({ kind: 'embedded', host: '127.0.0.1', port: 0, wsPort: false });
    const external = parseWorkflow(base + 'mqtt: { url: mqtts://broker.example:8883, username: u, password: p, protocol: 5, tls: { ca: ca.pem } }\n', '/etc/geoflux/m.yaml', {});
    expect(external.mqtt).toEqual({ kind: 'external', url: 'mqtts://broker.example:8883', username: 'u', password: 'p', clientId: undefined, protocolVersion: 5, tls: { ca: '/etc/geoflux/ca.pem', cert: undefined, key: undefined } });
  });

  it('serves a dashboard only when asked: on 127.0.0.1:8080 by default, an external broker\'s WebSocket named for it', () => {
    const base = 'name: m\nlisten: [quic://127.0.0.1:9000]\ntags: { alerts: 20 }\nfunctions:\n  - { name: out, observe: [alerts], sink: mqtt }\n';
    expect(parseWorkflow(base, 'm.yaml', {}).dashboard).toBeUndefined();
    expect(parseWorkflow(base + 'dashboard: false\n', 'm.yaml', {}).dashboard).toBeUndefined();
    expect(parseWorkflow(base + 'dashboard: {}\n', 'm.yaml', {}).dashboard).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseWorkflow(base + 'dashboard: { host: 0.0.0.0, port: 0 }\n', 'm.yaml', {}).dashboard).toEqual({ host: '0.0.0.0', port: 0 });
    const external = parseWorkflow(base + 'mqtt: { url: mqtts://broker.example:8883 }\ndashboard: { mqtt: wss://broker.example:8084/mqtt }\n', 'm.yaml', {});
    expect(external.dashboard).toEqual({ host: '127.0.0.1', port: 8080, mqtt: 'wss://broker.example:8084/mqtt' });
    expect(() => parseWorkflow(base + 'dashboard: { mqtt: ws://127.0.0.1:8083 }\n', 'm.yaml', {})).toThrow("m.yaml:6:14 dashboard.mqtt: is an external broker's WebSocket URL (set mqtt.url); the embedded broker's is known");
    expect(parseWorkflow(readFileSync('workflow.yaml', 'utf8'), 'workflow.yaml', {}).dashboard).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it('loads the demo workflow and the examples', async () => {
    for (const f of ['workflow.yaml', ...readdirSync('workflows/examples').filter((f) => f.endsWith('.yaml')).map((f) => `workflows/examples/${f}`)]) {
      await expect(loadWorkflow(f, {})).resolves.toMatchObject({ name: expect.any(String) });
    }
  });
});
