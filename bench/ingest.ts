import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { crc16Ibm } from '../ingest/teltonika/crc16-ibm.ts';
import { nmeaChecksum } from '../ingest/nmea/nmea-sentence.ts';
import { osmandUrl } from '../ingest/osmand/osmand-client.ts';
import { setLogLevel } from '../log/logger.ts';
import { connectSource } from '../source/connect-source.ts';
import { freePort } from '../testing/free-port.ts';
import { serveIngest, type IngestServe } from '../testing/ingest-serve.ts';
import { fmt, now, table } from './stats.ts';

/**
 * Device ingest: fixes/s each device listener takes in and writes to the zipper, its decoding and checks in
 * the source's one thread, fed by clients in this process as fast as each protocol lets them (HTTP: 64
 * requests in flight on keep-alive connections; Teltonika: 16 trackers, 25 records a packet, each waiting
 * for its ack as trackers do; NMEA: one TCP stream of RMC sentences; OwnTracks: QoS 0 publishes to the
 * embedded broker) — beside the SDK writing the same fixes over QUIC, in the same run. Counted where a
 * stream function receives them, until the last has arrived.
 */

const fix = (i: number): GpsRecord => ({ deviceId: `veh-${i % 500}`, t: 1.7e12 + i * 1000, lon: 7.42 + (i % 100) * 1e-4, lat: 43.73, speed: 12.5, heading: 90, accuracy: 5 });

type Load = (s: IngestServe, port: number, until: () => boolean) => Promise<void>;

/** Traccar Client's requests, 64 in flight on keep-alive connections; resolves with how many were answered */
async function getFixes(port: number, until: () => boolean): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const get = (path: string) => new Promise<void>((resolve, reject) => void request({ host: '127.0.0.1', port, path, agent }, (r) => r.resume().on('end', resolve)).on('error', reject).end());
  let i = 0;
  let answered = 0;
  const worker = async () => {
    while (!until()) {
      await get(osmandUrl('', fix(i++)));
      answered++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  agent.destroy();
  return answered;
}

const osmand: Load = async (_s, port, until) => void (await getFixes(port, until));

/** the anchor for osmand: the same requests to a Node HTTP server that only answers 200, in a thread of its own as a listener is */
async function bareHttp(seconds: number): Promise<number> {
  const port = await freePort();
  const server = new Worker(
    `const { createServer } = require('node:http'); const { parentPort, workerData } = require('node:worker_threads');
     createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end())).listen(workerData, '127.0.0.1', () => parentPort.postMessage('up'));`,
    { eval: true, workerData: port },
  );
  await new Promise((r) => server.once('message', r));
  const start = now();
  const answered = await getFixes(port, () => now() - start > seconds * 1000);
  const perSec = answered / ((now() - start) / 1000);
  await server.terminate();
  return perSec;
}

/** a Codec 8 packet of `n` records with no IO elements */
function codec8(n: number, from: number): Buffer {
  const data = Buffer.alloc(2 + n * 30 + 1);
  data[0] = 0x08;
  data[1] = n;
  for (let k = 0; k < n; k++) {
    const f = fix(from + k);
    const at = 2 + k * 30;
    data.writeBigUInt64BE(BigInt(f.t), at);
    data.writeInt32BE(Math.round(f.lon * 1e7), at + 9);
    data.writeInt32BE(Math.round(f.lat * 1e7), at + 13);
    data.writeUInt16BE(90, at + 19);
    data[at + 21] = 9;
    data.writeUInt16BE(45, at + 22);
  }
  data[data.length - 1] = n;
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(crc16Ibm(data));
  return Buffer.concat([head, data, tail]);
}

const teltonika: Load = async (_s, port, until) => {
  const tracker = (imei: string) =>
    new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const login = Buffer.concat([Buffer.from([0, imei.length]), Buffer.from(imei)]);
      let i = 0;
      const next = () => (until() ? (socket.end(), resolve()) : socket.write(codec8(25, (i += 25))));
      socket.on('connect', () => socket.write(login));
      socket.on('data', next);
      socket.on('error', reject);
    });
  await Promise.all(Array.from({ length: 16 }, (_, k) => tracker(String(356307042441000 + k))));
};

const rmc = (f: GpsRecord) => {
  const d = new Date(f.t);
  const hms = d.toISOString().slice(11, 19).replaceAll(':', '');
  const dmy = `${String(d.getUTCDate()).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCFullYear()).slice(2)}`;
  const dm = (x: number, w: number) => `${String(Math.floor(x)).padStart(w, '0')}${((x % 1) * 60).toFixed(4).padStart(7, '0')}`;
  const body = `GPRMC,${hms}.000,A,${dm(f.lat, 2)},N,${dm(f.lon, 3)},E,24.30,90.00,${dmy},,,A`;
  return `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}\r\n`;
};

const nmea: Load = async (s, port, until) => {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  let i = 0;
  while (!until()) {
    // no acks in NMEA: keep what is written ahead of what arrived bounded
    if (i - s.fixes.length > 20_000) await new Promise((r) => setTimeout(r, 1));
    else if (!socket.write(Array.from({ length: 100 }, () => rmc(fix(i++))).join(''))) await new Promise((r) => socket.once('drain', r));
  }
  socket.end();
};

const owntracks: Load = async (s, _port, until) => {
  const client = await mqtt.connectAsync(s.served.mqttUrl!);
  let i = 0;
  while (!until()) {
    if (i - s.fixes.length > 20_000) await new Promise((r) => setTimeout(r, 1));
    else
      for (let k = 0; k < 100; k++) {
        const f = fix(i++);
        client.publish(`owntracks/fleet/${f.deviceId}`, JSON.stringify({ _type: 'location', lat: f.lat, lon: f.lon, tst: f.t / 1000, vel: 45, cog: 90, acc: 5 }), { qos: 0 });
      }
    await new Promise((r) => setImmediate(r));
  }
  await client.endAsync();
};

async function measure(protocol: string, params: (port: number) => Record<string, unknown>, load: Load, seconds: number, extra = '') {
  const port = await freePort();
  const s = await serveIngest(protocol, params(port), extra);
  try {
    const start = now();
    await load(s, port, () => now() - start > seconds * 1000);
    // what was sent in the window is counted when it arrives: until nothing more has for half a second
    let last = { n: -1, at: now() };
    while (now() - last.at < 500) {
      if (s.fixes.length !== last.n) last = { n: s.fixes.length, at: now() };
      await new Promise((r) => setTimeout(r, 20));
    }
    return { perSec: last.n / ((last.at - start) / 1000), n: last.n };
  } finally {
    await s.stop();
  }
}

/** the SDK over QUIC into the same workflow shape: the anchor */
const sdk: Load = async (s, _port, until) => {
  const src = await connectSource({ name: 'sdk', zipper: s.served.zipper.listeners[0].url, certHash: s.served.zipper.tls.certHash });
  let i = 0;
  while (!until()) {
    if (!src.write('gps', Array.from({ length: 100 }, () => fix(i++)))) await src.flush(1000);
    await new Promise((r) => setImmediate(r));
  }
  await src.close(1000);
};

export async function run(): Promise<void> {
  setLogLevel('warn');
  const seconds = Number(process.env.GEOFLUX_BENCH_SECONDS ?? 3);
  const rows: (string | number)[][] = [];
  const cases: [string, string, (port: number) => Record<string, unknown>, Load, string?][] = [
    ['SDK over QUIC (anchor)', 'osmand', (port) => ({ port }), sdk],
    ['osmand (HTTP GET, Traccar Client)', 'osmand', (port) => ({ port }), osmand],
    ['teltonika (Codec 8 over TCP)', 'teltonika', (port) => ({ port }), teltonika],
    ['nmea (raw RMC over TCP)', 'nmea', (port) => ({ tcp: port }), nmea],
    ['owntracks (MQTT, embedded broker)', 'owntracks', () => ({}), owntracks, 'mqtt:\n  embedded: { port: 0, ws: false }'],
  ];
  let anchor = 0;
  for (const [label, protocol, params, load, extra] of cases) {
    const r = await measure(protocol, params, load, seconds, extra);
    anchor ||= r.perSec;
    rows.push([label, fmt(r.perSec), `${((r.perSec / anchor) * 100).toFixed(1)} %`, fmt(r.n)]);
    process.stderr.write(`  ${label} done\n`);
  }
  const bare = await bareHttp(seconds);
  rows.push(['(a bare HTTP server answering 200, same client)', fmt(bare), '', 'requests/s']);
  console.log(table(['into the zipper through', 'fixes/s', 'of the SDK', 'fixes'], rows));
  console.log(`\n${seconds} s each; a listener decodes and checks in its source's own thread, the clients run in this process beside the zipper.`);
}
