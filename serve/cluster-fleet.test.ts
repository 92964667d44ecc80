import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { expect, it } from 'vitest';
import { looksLikeFix } from '../codecs/fix-checks.ts';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { createGeofence, createMapMatch } from '../kernels/create-kernel.ts';
import { setLogLevel } from '../log/logger.ts';
import { loadNetwork } from '../network/load-network.ts';
import { TrafficSim } from '../simulators/traffic/traffic-sim.ts';
import { connectSource } from '../source/connect-source.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { startGeoflux } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');
const nats = natsServerForFile();

const MONACO = resolve('../shared/data/osm/monaco.osm.pbf');
const VEHICLES = 2_000;
const SECONDS = 40;
const KILL_AT = 20;
// the quarters as a workflow observing matched positions sets them (docs/kernels.md)
const QUARTERS = { fences: MONACO, detect: ['enter', 'exit'], confirmRun: true, hysteresis: 0, confirm: 9 };

/** one edge's fleet on Monaco's streets at 1 Hz: a frame a second */
async function fleet(name: string, seed: number): Promise<GpsRecord[][]> {
  const { graph } = await loadNetwork(MONACO);
  const sim = new TrafficSim(graph, { fleets: [{ name, vehicles: VEHICLES, gps: { noise: 10 } }], seed, start: Date.UTC(2026, 0, 1, 8) });
  return Array.from({ length: SECONDS }, () => sim.step().fixes);
}

const key = (e: Record<string, any>) => `${e.deviceId} ${e.fence.id} ${e.detect} ${e.time}`;

/** what one process makes of the same fixes: map matching, its matched fixes through the geofence */
async function singleProcess(frames: GpsRecord[][]): Promise<string[]> {
  const mm = await createMapMatch({ network: MONACO });
  const gf = await createGeofence(QUARTERS as never);
  const events: string[] = [];
  for (const f of frames) {
    const matched = (mm.process(batchFromRecords(f)) as unknown[]).filter(looksLikeFix) as GpsRecord[];
    if (matched.length) events.push(...gf.process(batchFromRecords(matched)).map((e) => key(e as Record<string, any>)));
  }
  return events.sort();
}

/** the workflow as edge `edge` runs it (two in one process need two names); every worker takes either */
function workflowFile(edge: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-fleet-'));
  const file = join(dir, `city-${edge}.yaml`);
  writeFileSync(
    file,
    [
      `name: city-${edge}`,
      'listen: [quic://127.0.0.1:0]',
      `cluster: { nats: "${nats().url}", stream: city, partitions: 12 }`,
      'tags: { gps: 16, matched: 17, fences: 18 }',
      'functions:',
      `  - { name: mapmatch, observe: [gps], emit: matched, where: cloud, kernel: mapmatch, params: { network: "${MONACO}" } }`,
      `  - { name: quarters, observe: [matched], emit: fences, where: cloud, kernel: geofence, params: ${JSON.stringify(QUARTERS)} }`,
      `  - { name: out, observe: [fences], where: cloud, sink: nats, params: { url: "${nats().url}", subject: "alerts-city.{detect}.{deviceId}" } }`,
    ].join('\n'),
  );
  return file;
}

const worker = (file: string, name: string) => startGeoflux(['worker', file, '--name', name, '--checkpoint-every', '1000'], /holding partitions/, { GEOFLUX_LOG: 'info' });
const stamp = (line: string) => Date.parse(line.slice(0, 24));

it(`2 edges × ${VEHICLES} vehicles → 3 workers matching and fencing; one killed -9 mid-run: the events equal one process's`, { timeout: 300_000 }, async (ctx) => {
  const [a, b] = [await fleet('a', 1), await fleet('b', 2)];
  const all = await singleProcess(a.map((f, s) => [...f, ...b[s]]));
  expect(all.length).toBeGreaterThan(100);
  const file = workflowFile('a');
  const edges = [await serveWorkflow(await loadWorkflow(file)), await serveWorkflow(await loadWorkflow(workflowFile('b')))];
  const nc = await connect({ servers: nats().url });
  const byId = new Map<string, Record<string, any>>();
  const sub = nc.subscribe('alerts-city.>');
  void (async () => {
    for await (const m of sub) byId.set(m.json<{ id: string }>().id, m.json());
  })();
  const workers = [await worker(file, 'w1'), await worker(file, 'w2'), await worker(file, 'w3')];
  const [w1, w2, w3] = workers;
  try {
    // each hands the next its share, one partition at a time: w1 is killed holding 4 once w2 and w3 hold theirs
    // what each holds now: a worker that came first may take more than its share and hand some on
    const holds = (w: (typeof workers)[number]) => (w.out.stderr.match(/: taken/g) ?? []).length - (w.out.stderr.match(/: handed over/g) ?? []).length;
    await waitFor(() => [w2, w3].every((w) => holds(w) === 4), { ms: 30_000, what: () => `w1 to hand w2 and w3 their shares:\n${workers.map((w) => w.out.stderr).join('\n')}` });
    const sources = await Promise.all(edges.map((e, i) => connectSource({ name: `gw-${i}`, zipper: e.zipper.listeners[0].url, certHash: e.zipper.tls.certHash })));
    const write = async (from: number, to: number) => {
      for (let s = from; s < to; s++) [a, b].forEach((fl, i) => sources[i].write('gps', fl[s]));
      for (const src of sources) expect(await src.flush(60_000)).toBe(true);
    };
    await write(0, KILL_AT);
    await waitFor(() => byId.size > 0, { ms: 60_000, what: 'the first events' });
    const killedAt = Date.now();
    w1.child.kill('SIGKILL');
    await w1.exited;
    await write(KILL_AT, SECONDS);
    await waitFor(() => byId.size >= all.length, { ms: 120_000, what: () => `all ${all.length} events (have ${byId.size}); w2:\n${w2.out.stderr}\nw3:\n${w3.out.stderr}` });
    // the survivors took w1's partitions from their checkpoints, with the vehicles' lattices and fences in them
    const taken = [w2, w3].flatMap((w) => w.out.stderr.split('\n').filter((l) => /partition \d+: taken, from the checkpoint/.test(l) && stamp(l) > killedAt));
    expect(taken).toHaveLength(4);
    ctx.annotate(`${all.length} events; w1's 4 partitions taken over ${((Math.max(...taken.map(stamp)) - killedAt) / 1000).toFixed(1)} s after its kill -9`);
    expect([...byId.values()].map(key).sort()).toEqual(all);
    for (const src of sources) await src.close();
  } finally {
    w1.child.kill('SIGKILL');
    await Promise.all([w2.stop(), w3.stop()]);
    for (const e of edges) await e.stop();
    await nc.close();
  }
});
