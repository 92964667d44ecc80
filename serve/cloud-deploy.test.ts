import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { setLogLevel } from '../log/logger.ts';
import { sha256 } from './deployment-store.ts';
import { connectSource } from '../source/connect-source.ts';
import { recordRows } from '../testing/mqtt-rows.ts';
import { clusterLines } from '../cli/status.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { cKernel, onFastFix } from '../testing/c-kernel.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import type { ControlReply, ControlRequest, DeployRequest } from '../zipper/control.ts';
import { runWorker, type RunningWorker } from './run-worker.ts';
import { DEPLOYMENTS_POLL_MS } from './worker-deployments.ts';
import { serveWorkflow, type ServedWorkflow } from './serve-workflow.ts';

setLogLevel('silent');
const nats = natsServerForFile();
const TOKEN = 'cloud-control';
const GEOFENCE = readFileSync(resolve('kernels/build/geofence.wasm'));
const SPEEDING = readFileSync(resolve('examples/kernels/c/speeding.wasm'));

type EdgeOptions = { name?: string; stream?: string; mqtt?: string; state?: string };
/** an edge that hands `gps` to the cluster (its workers watch a yard far off), and publishes `fences` and `zones` from the workers */
const edgeYaml = ({ name = 'clouddeploy', stream = name, mqtt = '{ embedded: { port: 0, ws: false } }', state = '.geoflux' }: EdgeOptions, url: string) =>
  [
    `name: ${name}`,
    `state: ${state}`,
    'listen: [quic://127.0.0.1:0]',
    `control: { token: ${TOKEN} }`,
    `mqtt: ${mqtt}`,
    `cluster: { nats: "${url}", partitions: 4, stream: ${stream} }`,
    'tags: { gps: 16, fences: 17, zones: 18, other: 19 }',
    'functions:',
    '  - name: yard',
    '    observe: [gps]',
    '    emit: fences',
    '    where: cloud',
    '    kernel: geofence',
    `    params: { fences: ${JSON.stringify(square('yard', 0, 0))} }`,
    '  - name: alerts-out',
    '    observe: [fences, zones]',
    '    where: cloud',
    '    sink: mqtt',
  ].join('\n');
const edgeWorkflow = (url: string, dir: string, o: EdgeOptions = {}) => parseWorkflow(edgeYaml(o, url), join(dir, `${o.name ?? 'clouddeploy'}.yaml`));

/** a square of 0.02° about (lon, lat), named `name` */
const square = (name: string, lon: number, lat: number) => ({
  type: 'FeatureCollection',
  features: [{ type: 'Feature', id: name, properties: { name }, geometry: { type: 'Polygon', coordinates: [[[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01], [lon + 0.01, lat + 0.01], [lon - 0.01, lat + 0.01], [lon - 0.01, lat - 0.01]]] } }],
});
/** about Monaco's port */
const zone = (name: string) => square(name, 7.42, 43.73);

const DEVICES = 24;
/** every device at second `s`: inside the square, but for those in `out` */
const fleet = (s: number, out: string[] = []) =>
  Array.from({ length: DEVICES }, (_, i) => `veh-${i}`).map((deviceId) => ({ deviceId, t: 1_700_000_000_000 + s * 1000, lon: out.includes(deviceId) ? 7.45 : 7.42, lat: 43.73, speed: 5 }));

const deployZones = (name: string): DeployRequest => ({ op: 'deploy', where: 'cloud', name: 'zones', observe: ['gps'], emit: ['zones'], params: { fences: zone(name), detect: ['enter', 'exit'], debounce: false }, min: 1, max: 1, wasm: GEOFENCE, hash: sha256(GEOFENCE) });

describe('geoflux deploy --where cloud', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('puts a kernel on every worker, one that starts later too; replaces it with its devices\' state; undeploys it', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-clouddeploy-'));
    dirs.push(dir);
    const wf = edgeWorkflow(nats().url, dir);
    const served = await serveWorkflow(wf);
    // the workers publish to the edge's broker, which took a free port
    const workerWf = edgeWorkflow(nats().url, dir, { mqtt: `{ url: "${served.mqttUrl}" }` });
    const workers: RunningWorker[] = [];
    const rows = await recordRows(served.mqttUrl!);
    const src = await connectSource({ name: 'gw', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
    const ask = async (req: ControlRequest) => controlRequest({ zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash, token: TOKEN }, req);
    // the yard is far away: every geofence event is the deployed kernel's
    const zoneEvents = () => rows.kindRows('geofence').flatMap(([d, rs]) => rs.map((r) => `${d} ${String(r.detect)}`));
    try {
      workers.push(await runWorker(workerWf, { name: 'wa' }), await runWorker(workerWf, { name: 'wb' }));
      await waitFor(() => workers.every((w) => w.stats().partitions.length === 2), { what: 'two workers sharing four partitions' });

      // refused at the edge, nothing stored
      expect(await ask({ ...deployZones('port'), observe: ['other'] })).toMatchObject({ ok: false, error: expect.stringMatching(/--observe other: this edge hands the cluster only gps, zones, fences/) });
      expect(await ask({ ...deployZones('port'), min: 0 })).toMatchObject({ ok: false, error: expect.stringMatching(/--min, --max and --idle do not apply/) });
      expect(await ask({ ...deployZones('port'), params: { fences: 42 } })).toMatchObject({ ok: false });

      const first = await ask(deployZones('port'));
      expect(first).toMatchObject({ ok: true, message: expect.stringMatching(/runs kernel [0-9a-f]{64} \(gps → zones, params .*\) on 2 workers \(wa, wb\)/) });
      // one name, one place: an edge deploy may not take it
      expect(await ask({ ...deployZones('port'), where: 'edge' })).toMatchObject({ ok: false, error: expect.stringMatching(/--name "zones" is deployed to the cluster's workers/) });
      for (let s = 0; s < 3; s++) src.write('gps', fleet(s));
      expect(await src.flush(20_000)).toBe(true);
      await waitFor(() => zoneEvents().length >= DEVICES, { what: 'every device entering the deployed zone' });
      expect(zoneEvents().sort()).toEqual(fleet(0).map((f) => `${f.deviceId} enter`).sort());

      // a worker that starts later reads the deployment from the cluster
      workers.push(await runWorker(workerWf, { name: 'wc' }));
      const listed = async () => ((await ask({ op: 'functions' })) as { functions: { name: string; where?: string; instances: number }[] }).functions;
      await waitFor(async () => (await listed()).find((f) => f.name === 'zones')?.instances === 3, { what: 'three workers running the deployed kernel' });
      expect((await listed()).map((f) => `${f.name} ${f.where ?? 'edge'}`)).toEqual(['yard cloud', 'alerts-out cloud', 'zones cloud']);

      // a new version (other params) takes each device's state: nobody enters again; a device leaving exits once
      const second = await ask(deployZones('port-2'));
      expect(second, JSON.stringify(second)).toMatchObject({ ok: true, message: expect.stringMatching(/on 3 workers .*in place of the version .*its state handed over$/) });
      for (let s = 3; s < 6; s++) src.write('gps', fleet(s, ['veh-0', 'veh-1']));
      expect(await src.flush(20_000)).toBe(true);
      await waitFor(() => zoneEvents().length >= DEVICES + 2, { what: 'two devices leaving the zone' });
      expect(zoneEvents().filter((e) => e.endsWith('enter'))).toHaveLength(DEVICES);
      expect(zoneEvents().filter((e) => e.endsWith('exit')).sort()).toEqual(['veh-0 exit', 'veh-1 exit']);

      // a name mistyped is answered with the cluster's deployment it is closest to
      expect(await ask({ op: 'undeploy', name: 'zone' })).toMatchObject({ ok: false, error: 'no deployed function "zone" (did you mean "zones"?)' });
      expect(await ask({ op: 'undeploy', name: 'zones' })).toMatchObject({ ok: true, message: 'function "zones" undeployed from the cluster\'s workers' });
      expect((await listed()).map((f) => f.name)).toEqual(['yard', 'alerts-out']);
      expect(await ask({ op: 'undeploy', name: 'zones' })).toMatchObject({ ok: false, error: expect.stringMatching(/no deployed function "zones"/) });
    } finally {
      await src.close(0);
      await rows.end();
      for (const w of workers) await w.stop();
      await served.stop();
    }
  });

  it('takes back a version one worker refuses, and answers once every worker runs the version before again; a worker\'s banner and status --cluster say what each runs and refused', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-cloudrevert-'));
    dirs.push(dir);
    const name = 'cloudrevert';
    const served = await serveWorkflow(edgeWorkflow(nats().url, dir, { name }));
    const mqtt = `{ url: "${served.mqttUrl}" }`;
    const ask = async (req: ControlRequest) => controlRequest({ zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash, token: TOKEN }, req);
    // wb looks at the deployments when the test says: after wa has taken the new version
    const wbClock = new ManualClock();
    const workers: RunningWorker[] = [];
    try {
      const wa = await runWorker(edgeWorkflow(nats().url, dir, { name, mqtt }), { name: 'wa' });
      workers.push(wa);
      expect(await ask(deployZones('port'))).toMatchObject({ ok: true, message: expect.stringMatching(/ on 1 worker \(wa\)/) });
      const first = wa.deployments().kernels.zones;
      // it reads the deployments as it starts
      const wbLog = keptLinesLog();
      const wb = await runWorker(edgeWorkflow(nats().url, dir, { name, mqtt, state: 'wb-state' }), { name: 'wb', clock: wbClock, log: wbLog });
      workers.push(wb);
      expect(wb.deployments().kernels).toEqual({ zones: first });
      // and says so as it starts
      const zonesAt = `zones@${sha256(GEOFENCE).slice(0, 12)}`;
      expect(wbLog.said).toContainEqual(expect.stringMatching(new RegExp(`^info worker wb: yard, alerts-out on stream "cloudrevert", holding partitions .* of 4; deployed: ${zonesAt}$`)));

      // wb can no longer keep a module in its state folder: it will refuse the next version, which wa takes
      await rm(join(dir, 'wb-state'), { recursive: true });
      await writeFile(join(dir, 'wb-state'), '');
      let answer: ControlReply | undefined;
      const asked = ask(deployZones('port-2')).then((r) => (answer = r));
      await waitFor(() => wa.deployments().kernels.zones !== first, { what: 'wa running the new version' });
      await waitFor(() => (wbClock.advance(DEPLOYMENTS_POLL_MS), answer), { what: 'the answer to the deploy wb refuses', every: 100 });
      await asked;
      expect(answer).toMatchObject({ ok: false, error: expect.stringMatching(/^function "zones": worker wb refused it: .*ENOTDIR.*; the version before is back: every live worker runs it again \(wa, wb\)$/) });
      // so it was when the answer came
      expect(workers.map((w) => w.deployments().kernels.zones)).toEqual([first, first]);

      // a worker that starts with the folder it cannot use refuses the deployment: it says so, and status shows it
      const wcLog = keptLinesLog();
      workers.push(await runWorker(edgeWorkflow(nats().url, dir, { name, mqtt, state: 'wb-state' }), { name: 'wc', log: wcLog }));
      expect(wcLog.said).toContainEqual(expect.stringMatching(new RegExp(`^info worker wc: .*; deployed: no deployed kernel · refused ${zonesAt}: .*ENOTDIR`)));
      const file = join(dir, 'status.yaml');
      await writeFile(file, edgeYaml({ name }, nats().url));
      const status = await clusterLines(file);
      expect(status.slice(status.findIndex((l) => l.startsWith('deployed:')))).toEqual([
        `deployed: ${zonesAt}; per worker:`,
        `  wa                       ${zonesAt}`,
        `  wb                       ${zonesAt}`,
        expect.stringMatching(new RegExp(`^  wc {23}no deployed kernel · refused ${zonesAt}: .*ENOTDIR`)),
      ]);
    } finally {
      for (const w of workers) await w.stop();
      await served.stop();
    }
  });

  it('of two deploys under one name through two edges at once, refuses one: the other runs', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-cloudrace-'));
    dirs.push(dir);
    const name = 'cloudrace';
    const edges = [await serveWorkflow(edgeWorkflow(nats().url, dir, { name })), await serveWorkflow(edgeWorkflow(nats().url, dir, { name: `${name}-b`, stream: name, state: 'edge-b' }))];
    const askAt = (served: ServedWorkflow) => async (req: ControlRequest) => controlRequest({ zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash, token: TOKEN }, req);
    const worker = await runWorker(edgeWorkflow(nats().url, dir, { name, mqtt: `{ url: "${edges[0].mqttUrl}" }` }), { name: 'wa' });
    try {
      const speeding: DeployRequest = { ...deployZones('port'), params: { limit: 50 }, wasm: SPEEDING, hash: sha256(SPEEDING) };
      const answers = await Promise.all([askAt(edges[0])(deployZones('port')), askAt(edges[1])(speeding)]);
      expect(answers.filter((a) => a.ok), JSON.stringify(answers)).toHaveLength(1);
      const lost = answers.find((a) => !a.ok);
      expect(lost).toMatchObject({ error: expect.stringMatching(/^function "zones" was changed through another edge .*[:;] it now runs kernel [0-9a-f]{12}… with params /) });
      const winner = answers[0].ok ? sha256(GEOFENCE) : sha256(SPEEDING);
      for (const served of edges) {
        const listed = ((await askAt(served)({ op: 'functions' })) as { functions: { name: string; hash?: string; instances: number }[] }).functions;
        expect(listed.find((f) => f.name === 'zones')).toMatchObject({ hash: winner, instances: 1 });
      }
    } finally {
      await worker.stop();
      for (const served of edges) await served.stop();
    }
  });

  it("counts a deployed kernel's drops in the worker's /metrics, as serve counts an edge kernel's", { timeout: 120_000 }, async (ctx) => {
    // traps on a fix faster than 40 m/s: that fix alone is dropped, its neighbours go on
    const trap = readFileSync(cKernel(ctx, onFastFix('trap-fast', 40, '__builtin_trap();')));
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-cloudtrap-'));
    dirs.push(dir);
    const name = 'cloudtrap';
    const served = await serveWorkflow(edgeWorkflow(nats().url, dir, { name }));
    const worker = await runWorker(edgeWorkflow(nats().url, dir, { name, mqtt: `{ url: "${served.mqttUrl}" }` }), { name: 'wa', metrics: { host: '127.0.0.1', port: 0 } });
    try {
      const ask = async (req: ControlRequest) => controlRequest({ zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash, token: TOKEN }, req);
      const deployed = await ask({ ...deployZones('port'), name: 'trap', params: {}, wasm: trap, hash: sha256(trap) });
      expect(deployed, JSON.stringify(deployed)).toMatchObject({ ok: true });
      const src = await connectSource({ name: 'gw', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
      src.write('gps', [...fleet(0), { deviceId: 'veh-0', t: 1_700_000_001_000, lon: 7.42, lat: 43.73, speed: 50 }]);
      expect(await src.flush(20_000)).toBe(true);
      await src.close();
      const scrape = async () => parseExposition(await worker.metrics!.scrape());
      await waitFor(async () => total(await scrape(), 'geoflux_kernel_trapped_rows_total', { function: 'trap' }) === 1, { what: "the trapped fix in the worker's /metrics" });
      const m = await scrape();
      expect(total(m, 'geoflux_kernel_traps_total', { function: 'trap' })).toBeGreaterThan(0);
      expect(total(m, 'geoflux_kernel_bad_rows_total', { function: 'trap' })).toBe(0);
      expect(m.some((x) => x.name === 'geoflux_kernel_call_seconds_count' && x.labels.function === 'yard')).toBe(true);
    } finally {
      await worker.stop();
      await served.stop();
    }
  });
});
