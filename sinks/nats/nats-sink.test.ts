import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../../log/logger.ts';
import { freePort } from '../../testing/free-port.ts';
import { startNatsServer } from '../../testing/nats-server-process.ts';
import { natsServerForFile } from '../../testing/nats-suite.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { connectSource } from '../../source/connect-source.ts';
import { serveWorkflow } from '../../serve/serve-workflow.ts';
import { parseWorkflow } from '../../workflows/load.ts';
import { connectNats } from '../../cluster/connect-nats.ts';
import { keptLinesLog } from '../../testing/kept-lines-log.ts';
import { SINK_KINDS } from '../sink-kinds.ts';
import { NatsSink } from './nats-sink.ts';

setLogLevel('silent');

const enter = (deviceId: string, i: number) => ({ kind: 'geofence', detect: 'enter', deviceId, t: 1_700_000_000_000 + i, fence: { id: 'yard' } });

/** every message on `subject` (wildcards allowed), as [subject, event] */
async function listen(url: string, subject: string): Promise<{ got: [string, Record<string, unknown>][]; nc: NatsConnection }> {
  const nc = await connect({ servers: url });
  const got: [string, Record<string, unknown>][] = [];
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const m of sub) got.push([m.subject, m.json()]);
  })();
  await nc.flush();
  return { got, nc };
}

describe('the NATS sink, against a real nats-server', () => {
  const nats = natsServerForFile();

  it('publishes each event as JSON on its subject; a value cannot add tokens or wildcards', async () => {
    const { got, nc } = await listen(nats().url, 'geoflux.alerts.>');
    const sink = new NatsSink({ url: nats().url, connect: (signal) => connectNats({ servers: [nats().url], signal }) });
    await sink.ready();
    for (let i = 0; i < 300; i++) sink.publish(enter(`veh-${i % 3}`, i));
    sink.publish(enter('bus 7.north>*', 300));
    expect(await sink.flush(10_000)).toBe(true);
    await waitFor(() => got.length === 301, { what: '301 messages' });
    expect(got[0]).toEqual(['geoflux.alerts.geofence.enter.veh-0', enter('veh-0', 0)]);
    expect(got[300][0]).toBe('geoflux.alerts.geofence.enter.bus%207%2Enorth%3E%2A');
    expect(sink.stats()).toMatchObject({ connected: true, published: 301, buffered: 0, inflight: 0, dropped: 0, errors: 0 });
    expect(sink.latency.snapshot().count).toBe(301);
    await sink.close();
    await nc.close();
  });

  it('through JetStream: holds what it is given while the server is away, then every message is in the stream once', async () => {
    const admin = await connect({ servers: nats().url });
    await (await jetstreamManager(admin)).streams.add({ name: 'ALERTS', subjects: ['fleet.>'] });
    await admin.close();
    const sink = new NatsSink({ url: nats().url, subject: 'fleet.{detect}.{deviceId}', jetstream: true, connect: (signal) => connectNats({ servers: [nats().url], signal }) });
    await sink.ready();
    for (let i = 0; i < 100; i++) sink.publish(enter('veh-1', i));
    expect(await sink.flush(10_000)).toBe(true);
    await nats().kill();
    await waitFor(() => !sink.stats().connected, { what: 'the sink to notice the server is gone' });
    for (let i = 100; i < 250; i++) sink.publish(enter('veh-2', i));
    expect(sink.stats().buffered).toBe(150);
    await nats().restart();
    expect(await sink.flush(20_000)).toBe(true);
    const nc = await connect({ servers: nats().url });
    const info = await (await jetstreamManager(nc)).streams.info('ALERTS');
    expect(info.state.messages).toBe(250);
    expect(sink.stats()).toMatchObject({ published: 250, dropped: 0, errors: 0 });
    expect(sink.stats().reconnects).toBeGreaterThanOrEqual(1);
    await nc.close();
    await sink.close();
  });

  it('starts before its server does, and keeps at most `buffer` messages: the oldest go, counted', async () => {
    const port = await freePort();
    const sink = new NatsSink({ url: `nats://127.0.0.1:${port}`, buffer: 50, connect: (signal) => connectNats({ servers: [`nats://127.0.0.1:${port}`], signal }) });
    for (let i = 0; i < 80; i++) sink.publish(enter('veh-3', i));
    expect(sink.stats()).toMatchObject({ connected: false, buffered: 50, dropped: 30 });
    const late = await startNatsServer({ port });
    try {
      const { got, nc } = await listen(late.url, 'geoflux.>');
      await sink.ready(15_000);
      expect(await sink.flush(10_000)).toBe(true);
      await waitFor(() => got.length === 50, { what: 'the 50 kept' });
      expect(got[0][1]).toEqual(enter('veh-3', 30));
      await nc.close();
    } finally {
      await sink.close();
      await late.stop();
    }
  });

  it('with no server at its URL: says so at WARN, says its drops, and counts what it still held at its close as dropped', async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const log = keptLinesLog();
    const sink = await SINK_KINDS.nats.open({ name: 'to-nats', log }, { url, buffer: 100 });
    await waitFor(() => log.said.find((l) => l.startsWith('warn ')), { what: 'a warning' });
    expect(log.said[0]).toMatch(new RegExp(`^warn NATS at ${url} is not reachable \\(.*\\); waiting for it$`));
    for (let i = 0; i < 3000; i++) sink.publish(enter('veh-4', i));
    expect(sink.stats()).toMatchObject({ connected: false, buffered: 100, dropped: 2900 });
    expect(log.said[1]).toMatch(new RegExp(`^warn buffer of 100 full: dropped the oldest message for ${url}, not reachable for `));
    await sink.close(50);
    expect(sink.stats()).toMatchObject({ buffered: 0, dropped: 3000 });
    expect(log.said.slice(2)).toEqual([expect.stringMatching(/^warn … 2,899 more in the last/), expect.stringMatching(new RegExp(`^warn closing: dropped 100 buffered messages for ${url}, not reachable for `))]);
  });

  it('is a workflow function like the MQTT sink: `sink: nats`, counted in serve\'s figures', async () => {
    const { got, nc } = await listen(nats().url, 'yard.>');
    const wf = parseWorkflow(
      [
        'name: nats-out',
        'listen: [quic://127.0.0.1:0]',
        // a state folder of its own: a serve locks its folder, and other test files serve beside this one
        'state: .geoflux/nats-sink-test',
        'metrics: false',
        'tags: { gps: 16, fences: 17 }',
        'functions:',
        '  - name: yard',
        '    observe: [gps]',
        '    emit: fences',
        '    host: local',
        '    kernel: geofence',
        '    params: { fences: { type: FeatureCollection, features: [{ type: Feature, id: yard, properties: {}, geometry: { type: Polygon, coordinates: [[[7.41, 43.73], [7.42, 43.73], [7.42, 43.74], [7.41, 43.74], [7.41, 43.73]]] } }] }, detect: [enter, exit], debounce: false }',
        '  - name: to-nats',
        '    observe: [fences]',
        '    sink: nats',
        `    params: { url: "${nats().url}", subject: "yard.{detect}.{deviceId}" }`,
      ].join('\n'),
      `${process.cwd()}/nats-out.yaml`,
    );
    expect(wf.mqtt).toBeUndefined();
    const served = await serveWorkflow(wf);
    try {
      const src = await connectSource({ name: 'truck', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
      src.write('gps', [
        { deviceId: 'truck-1', t: 1_700_000_000_000, lon: 7.405, lat: 43.735, speed: 10 },
        { deviceId: 'truck-1', t: 1_700_000_001_000, lon: 7.415, lat: 43.735, speed: 10 },
        { deviceId: 'truck-1', t: 1_700_000_002_000, lon: 7.425, lat: 43.735, speed: 10 },
      ]);
      await waitFor(() => got.length === 2, { what: 'enter and exit on NATS' });
      expect(got.map(([subject]) => subject)).toEqual(['yard.enter.truck-1', 'yard.exit.truck-1']);
      // a subscriber can have both before the sink hears its publishes acknowledged (CI saw 0 then)
      await waitFor(() => served.sinks[0]?.sink.stats().published === 2, 'both publishes acknowledged to the sink');
      expect(served.sinks.map(({ fn, sink }) => [fn, sink.kind, sink.stats().published])).toEqual([['to-nats', 'nats', 2]]);
      await src.close();
    } finally {
      await served.stop();
      await nc.close();
    }
  });
});
