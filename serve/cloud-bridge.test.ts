import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { decodeGpsBatch, recordsOf } from '../codecs/gps-batch.ts';
import { partitionOf } from '../cluster/partition.ts';
import { setLogLevel } from '../log/logger.ts';
import { total, parseExposition } from '../metrics/parse-exposition.ts';
import { connectSource } from '../source/connect-source.ts';
import { freePort } from '../testing/free-port.ts';
import { startNatsServer, type NatsServer } from '../testing/nats-server-process.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');
const nats = natsServerForFile();

/** an edge whose geofence runs on the cluster's workers: `geoflux serve` of it only hands the fixes on */
const edgeWorkflow = (url: string, stream: string) =>
  parseWorkflow(
    [
      `name: ${stream}`,
      'listen: [quic://127.0.0.1:0]',
      // a state folder of its own: a serve locks its folder, and other test files serve beside this one
      'state: .geoflux/cloud-bridge-test',
      'metrics: { port: 0 }',
      // the cloud sink makes the edge start its MQTT broker: on any free port, not the demo's
      'mqtt: { embedded: { port: 0, ws: false } }',
      `cluster: { nats: "${url}", partitions: 4 }`,
      'tags: { gps: 16, fences: 17 }',
      'functions:',
      '  - name: yard',
      '    observe: [gps]',
      '    emit: fences',
      '    where: cloud',
      '    kernel: geofence',
      '    params: { fences: { type: FeatureCollection, features: [] } }',
      '  - name: alerts-out',
      '    observe: [fences]',
      '    where: cloud',
      '    sink: mqtt',
    ].join('\n'),
    `${process.cwd()}/${stream}.yaml`,
  );

const fleet = (second: number, devices = 20) => Array.from({ length: devices }, (_, i) => ({ deviceId: `veh-${i}`, t: 1_700_000_000_000 + second * 1000, lon: 7.42, lat: 43.73, speed: 10 }));

/** every fix in the stream as deviceId@t, with the partition its subject names */
async function stored(url: string, stream: string) {
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const out: { p: number; fix: string }[] = [];
  for (let seq = 1; seq <= (await jsm.streams.info(stream)).state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq });
    for (const r of recordsOf(decodeGpsBatch(m!.data))) out.push({ p: Number(m!.subject.split('.')[2]), fix: `${r.deviceId}@${r.t}` });
  }
  await nc.close();
  return out;
}

describe('an edge with cloud functions', () => {
  it('runs none of them: hands the fixes to JetStream by partition, and acks a source frame only once JetStream has it', async () => {
    const served = await serveWorkflow(edgeWorkflow(nats().url, 'edge1'));
    try {
      expect(served.functions.map((f) => f.fn)).toEqual([]);
      expect(served.sinks).toEqual([]);
      const src = await connectSource({ name: 'gw', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
      for (let s = 0; s < 10; s++) src.write('gps', fleet(s));
      expect(await src.flush(20_000)).toBe(true);
      const got = await stored(nats().url, 'edge1');
      expect(got.map((g) => g.fix).sort()).toEqual(Array.from({ length: 10 }, (_, s) => fleet(s).map((f) => `${f.deviceId}@${f.t}`)).flat().sort());
      for (const g of got) expect(g.p).toBe(partitionOf(g.fix.split('@')[0], 4));
      const m = parseExposition(await served.metrics!.scrape());
      expect(total(m, 'geoflux_cluster_published_fixes_total')).toBe(200);
      expect(total(m, 'geoflux_cluster_connected')).toBe(1);
      // the bridge is a function of the zipper: `geoflux status` rates it by what it handled
      expect(total(m, 'geoflux_function_records_total', { function: 'jetstream' })).toBe(200);
      await src.close();
    } finally {
      await served.stop();
    }
  });

  it('holds back while nats-server is down (the source keeps its frames), then delivers every fix', async () => {
    const served = await serveWorkflow(edgeWorkflow(nats().url, 'edge2'));
    try {
      const src = await connectSource({ name: 'gw2', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
      src.write('gps', fleet(0));
      expect(await src.flush(20_000)).toBe(true);
      await nats().kill();
      for (let s = 1; s < 6; s++) src.write('gps', fleet(s));
      // nothing is acknowledged while JetStream cannot take it
      await waitFor(() => served.cloud!.stats().publisher.framesInFlight > 0, { what: 'frames in flight to the cluster' });
      expect(src.stats().spooled).toBe(100);
      await nats().restart();
      expect(await src.flush(30_000)).toBe(true);
      const got = new Set((await stored(nats().url, 'edge2')).map((g) => g.fix));
      expect(got.size).toBe(120);
      await src.close();
    } finally {
      await served.stop();
    }
  });

  it('asks a server that refuses it again, frames waiting unacknowledged, until one takes it', async () => {
    const refusing = await startNatsServer({ args: ['--auth', 's3cret'] });
    const wf = edgeWorkflow(refusing.url, 'edge3');
    const served = await serveWorkflow(wf);
    let taking: NatsServer | undefined;
    try {
      const src = await connectSource({ name: 'gw3', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
      for (let s = 0; s < 3; s++) src.write('gps', fleet(s));
      expect(await src.flush(1_000)).toBe(false);
      expect(src.stats().spooled).toBe(60);
      expect(served.cloud!.stats().connected).toBe(false);
      // the same port, now without a token to ask for
      await refusing.stop();
      taking = await startNatsServer({ port: refusing.port });
      expect(await src.flush(30_000)).toBe(true);
      expect(new Set((await stored(taking.url, 'edge3')).map((g) => g.fix)).size).toBe(60);
      await src.close();
    } finally {
      await served.stop();
      await taking?.stop();
    }
  });

  it('stopped before NATS was ever there, leaves every frame unacknowledged for the sources to resend', async () => {
    const served = await serveWorkflow(edgeWorkflow(`nats://127.0.0.1:${await freePort()}`, 'edge4'));
    const src = await connectSource({ name: 'gw4', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
    try {
      for (let s = 0; s < 3; s++) src.write('gps', fleet(s));
      expect(await src.flush(1_000)).toBe(false);
      await served.stop();
      expect(src.stats().spooled).toBe(60);
    } finally {
      await src.close(0);
    }
  });
});
