import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { setLogLevel } from '../../log/logger.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../alerts/embedded-broker.ts';
import { MOSQUITTO, requireTool } from '../../testing/system-tool.ts';
import { startMosquitto } from '../../testing/mosquitto-process.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { MqttSink, type MqttSinkOptions } from './mqtt-sink.ts';
import { subscribeAlerts } from '../../alerts/subscribe-alerts.ts';
import { freePort } from '../../testing/free-port.ts';
import { keptLinesLog } from '../../testing/kept-lines-log.ts';

setLogLevel('silent');

interface Got {
  topic: string;
  event: Record<string, any>;
  retain: boolean;
  qos: number;
}

/** a subscriber that reconnects and resubscribes, as mqtt.js does by default */
async function subscriber(url: string, topic: string, protocolVersion: 4 | 5 = 4): Promise<{ got: Got[]; client: MqttClient }> {
  const client = await mqtt.connectAsync(url, { protocolVersion, reconnectPeriod: 200 });
  const got: Got[] = [];
  client.on('message', (t, p, packet) => got.push({ topic: t, event: JSON.parse(p.toString()), retain: packet.retain, qos: packet.qos }));
  await client.subscribeAsync(topic, { qos: 1 });
  return { got, client };
}

const enter = (deviceId: string, fence: string) => ({ kind: 'geofence', detect: 'enter', fence: { id: fence, name: fence }, deviceId, time: '2026-01-01T08:00:00Z', point: [7.42, 43.74] });
const exit = (deviceId: string, fence: string) => ({ ...enter(deviceId, fence), detect: 'exit' });
const matched = (deviceId: string, lon: number) => ({ kind: 'mapmatch', detect: 'matched', deviceId, t: 1, time: '2026-01-01T08:00:01Z', lon, lat: 43.7, speed: 10, point: [lon, 43.7], raw: [lon, 43.7], edge: 5, wayId: 77, offset: 3 });
const hot = { kind: 'hotspot', detect: 'hot', cell: { id: '3:4', bbox: [7.41, 43.72, 7.412, 43.722] }, z: 4, count: 20, window: { start: 'a', end: 'b' } };

// a sink reaches the embedded broker as a client over TCP, or, in serve's own process, by publishing into it
describe.each(['over TCP', 'in process'])('MQTT sink → embedded broker (aedes, MQTT 3.1.1), %s', (via) => {
  let broker: EmbeddedBroker;
  const sinkTo = (o: Omit<MqttSinkOptions, 'url'> = {}) => new MqttSink({ url: broker.url, ...(via === 'in process' ? { broker } : {}), ...o });
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0, wsPort: 0 });
  });
  afterAll(() => broker.close());

  it('publishes each event as JSON on its topic with QoS 1, and keeps per-device state retained', async () => {
    const { got, client } = await subscriber(broker.url, 'geoflux/#');
    const sink = sinkTo({ state: true });
    await sink.ready();
    for (const e of [enter('veh-1', 'Monte-Carlo'), hot, matched('veh-1', 7.42), exit('veh-1', 'Monte-Carlo'), enter('veh-1', 'Larvotto')]) sink.publish(e);
    await sink.close();
    await waitFor(() => got.filter((g) => g.topic.startsWith('geoflux/alerts/')).length === 5 && got.some((g) => g.topic === 'geoflux/state/veh-1'), { what: 'alerts and state' });
    expect(got.filter((g) => g.topic.startsWith('geoflux/alerts/')).map((g) => [g.topic, g.qos])).toEqual([
      ['geoflux/alerts/geofence/enter/veh-1', 1],
      ['geoflux/alerts/hotspot/hot/3:4', 1],
      ['geoflux/alerts/mapmatch/matched/veh-1', 1],
      ['geoflux/alerts/geofence/exit/veh-1', 1],
      ['geoflux/alerts/geofence/enter/veh-1', 1],
    ]);
    expect(got[1].event).toEqual(hot);
    await client.endAsync();
    // a late subscriber gets the state, retained: last matched position, the fences it is in now
    const late = await subscriber(broker.url, 'geoflux/state/+');
    await waitFor(() => late.got.length === 1, { what: 'the retained state' });
    expect(late.got[0]).toMatchObject({ retain: true, event: { deviceId: 'veh-1', lon: 7.42, lat: 43.7, edge: 5, wayId: 77, fences: ['Larvotto'] } });
    await late.client.endAsync();
  });

  it('publishes the whole fleet\'s latest positions as one retained message, for a live map', async () => {
    const sink = sinkTo({ topic: false, positions: 'live/positions' });
    await sink.ready();
    sink.publish(matched('veh-4', 7.41));
    sink.publish({ deviceId: 'veh-5', t: 3, lon: 7.43, lat: 43.74, speed: 2 });
    sink.publish(enter('veh-4', 'yard'));
    await sink.close();
    const late = await subscriber(broker.url, 'live/#');
    await waitFor(() => late.got.length === 1, { what: 'the retained positions' });
    expect(late.got[0]).toMatchObject({ topic: 'live/positions', retain: true, event: { t: expect.any(Number), vehicles: [{ deviceId: 'veh-4', t: 1, lon: 7.41, lat: 43.7, speed: 10 }, { deviceId: 'veh-5', t: 3, lon: 7.43, lat: 43.74, speed: 2 }] } });
    await late.client.endAsync();
  });

  it('honours retain and a topic template', async () => {
    const sink = sinkTo({ topic: 'fleet/{fence.id}/{detect}', retain: true, qos: 0 });
    await sink.ready();
    sink.publish(enter('veh-2', 'yard'));
    await sink.close();
    const late = await subscriber(broker.url, 'fleet/#');
    await waitFor(() => late.got.length === 1, { what: 'the retained alert' });
    expect(late.got[0]).toMatchObject({ topic: 'fleet/yard/enter', retain: true });
    await late.client.endAsync();
  });

  it('serves MQTT over WebSocket too, for browsers; subscribeAlerts prints readable lines, filtered by kind, each id once', async () => {
    const lines: string[] = [];
    const sub = subscribeAlerts({ url: broker.wsUrl!, kinds: ['geofence'], count: 2, log: { debug() {}, info() {}, warn() {}, error() {}, child: () => undefined as never, about: () => undefined as never }, print: (l) => lines.push(l) });
    const sink = sinkTo();
    await sink.ready();
    await waitFor(() => broker.clients() >= (via === 'in process' ? 1 : 2), { what: 'the subscriber' });
    await new Promise((r) => setTimeout(r, 200)); // its SUBACK
    // a takeover's worker publishes again what its predecessor did after its last mark: same id, printed once
    const replayed = { ...enter('veh-3', 'Fontvieille'), id: 'city:3:1207:0' };
    for (const e of [hot, replayed, replayed, matched('veh-3', 7.41), exit('veh-3', 'Fontvieille')]) sink.publish(e);
    expect(await sub.done).toBe(2);
    expect(sub.repeats()).toBe(1);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/geofence enter\s+veh-3\s+Fontvieille\s+7\.42000,43\.74000$/);
    expect(lines[1]).toMatch(/geofence exit/);
    await sink.close();
  });

  it('sends a backlog of 20,000 messages queued before it connected, at QoS 0', async () => {
    const sink = sinkTo({ qos: 0, buffer: 30_000 });
    for (let i = 0; i < 20_000; i++) sink.publish(enter(`veh-${i}`, 'yard'));
    await sink.ready();
    await sink.close(30_000);
    expect(sink.stats()).toMatchObject({ published: 20_000, dropped: 0, errors: 0, inflight: 0 });
  });

  it('says which port is taken', async () => {
    await expect(startEmbeddedBroker({ port: broker.port, wsPort: false })).rejects.toThrow(`MQTT port ${broker.port} is in use: set mqtt.embedded.port to another port (0 for any), or mqtt.url for an external broker`);
  });
});

describe('MQTT sink in the process of its embedded broker', () => {
  it('refuses, and counts, what a broker refuses of a client: a topic with a wildcard', async () => {
    const broker = await startEmbeddedBroker({ port: 0, wsPort: false });
    const sink = new MqttSink({ url: broker.url, broker, topic: 'fleet/#/{deviceId}' });
    await sink.ready();
    sink.publish(enter('a', 'yard'));
    await sink.close();
    expect(sink.stats()).toMatchObject({ published: 0, errors: 1 });
    await broker.close();
  });

  it('takes the broker closing under it as a lost broker: not connected, what comes after buffered and counted', async () => {
    const broker = await startEmbeddedBroker({ port: 0, wsPort: false });
    const sink = new MqttSink({ url: broker.url, broker, buffer: 2 });
    await sink.ready();
    await broker.close();
    for (const d of ['a', 'b', 'c']) sink.publish(enter(d, 'yard'));
    expect(sink.stats()).toMatchObject({ connected: false, published: 0, buffered: 2, dropped: 1, errors: 0 });
    await sink.close(0);
  });
});

describe('MQTT sink with no broker at its URL', () => {
  it('says so at WARN, says its drops, and counts what it still held at its close as dropped', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const log = keptLinesLog();
    const sink = new MqttSink({ url, buffer: 10, log });
    await waitFor(() => log.said.find((l) => l.startsWith('warn ')), { what: 'a warning' });
    expect(log.said[0]).toMatch(new RegExp(`^warn cannot reach broker ${url} \\(connect ECONNREFUSED .*\\); buffering up to 10 messages and reconnecting$`));
    for (let i = 0; i < 25; i++) sink.publish(enter(`veh-${i}`, 'yard'));
    expect(sink.stats()).toMatchObject({ connected: false, buffered: 10, dropped: 15 });
    expect(log.said[1]).toMatch(new RegExp(`^warn buffer of 10 full: dropped the oldest message for ${url}, not reachable for \\d`));
    await sink.close(50);
    expect(sink.stats()).toMatchObject({ buffered: 0, dropped: 25 });
    expect(log.said.slice(2)).toEqual([expect.stringMatching(/^warn … 14 more in the last/), expect.stringMatching(new RegExp(`^warn closing: dropped 10 buffered messages for ${url}`))]);
  });
});

describe('MQTT sink → Debian mosquitto', () => {
  beforeEach((ctx) => {
    requireTool(ctx, MOSQUITTO);
  });

  it.each([4, 5] as const)('publishes to a real mosquitto with protocol version %i', async (v) => {
    const m = await startMosquitto();
    try {
      const { got, client } = await subscriber(m.url, 'geoflux/alerts/#', v);
      const sink = new MqttSink({ url: m.url, protocolVersion: v });
      await sink.ready();
      sink.publish(enter('veh-9', 'Monaco-Ville'));
      sink.publish(hot);
      await waitFor(() => got.length === 2 && sink.stats().published === 2, { what: 'two alerts, acknowledged' });
      expect(got.map((g) => g.topic)).toEqual(['geoflux/alerts/geofence/enter/veh-9', 'geoflux/alerts/hotspot/hot/3:4']);
      expect(sink.stats()).toMatchObject({ connected: true, published: 2, dropped: 0 });
      await sink.close();
      await client.endAsync();
    } finally {
      await m.stop();
    }
  });

  it('survives the broker being killed: buffers (bounded), reconnects, delivers what came after, counts what it dropped', async () => {
    const m = await startMosquitto();
    try {
      const sub = await subscriber(m.url, 'geoflux/alerts/#');
      const log = keptLinesLog();
      const sink = new MqttSink({ url: m.url, buffer: 50, log });
      await sink.ready();
      const ev = (phase: string, i: number) => ({ kind: 'test', detect: phase, deviceId: `d${i}`, i });
      for (let i = 0; i < 30; i++) sink.publish(ev('before', i));
      await waitFor(() => sub.got.length === 30, { what: 'the first 30' });
      await m.kill();
      await waitFor(() => !sink.stats().connected, { what: 'the sink to notice' });
      for (let i = 0; i < 100; i++) sink.publish(ev('during', i)); // returns at once: nothing blocks
      expect(sink.stats()).toMatchObject({ buffered: 50, dropped: 50 });
      expect(log.said.filter((l) => l.includes('dropped'))).toEqual([expect.stringMatching(new RegExp(`^warn buffer of 50 full: dropped the oldest message for ${m.url}, not reachable for \\d`))]);
      await m.restart();
      await waitFor(() => sink.stats().connected && sub.client.connected, { what: 'both to reconnect' });
      // the subscriber's session died with the broker; resubscribe before the sink's backlog lands
      await sub.client.subscribeAsync('geoflux/alerts/#', { qos: 1 });
      for (let i = 0; i < 30; i++) sink.publish(ev('after', i));
      await waitFor(() => sub.got.filter((g) => g.event.detect === 'after').length === 30, { what: 'the 30 published after the restart' });
      expect(sub.got.filter((g) => g.event.detect === 'before')).toHaveLength(30);
      expect(sink.stats().dropped).toBe(50);
      expect(sink.stats().reconnects).toBeGreaterThan(0);
      await sink.close();
      await sub.client.endAsync();
    } finally {
      await m.stop();
    }
  });
});
