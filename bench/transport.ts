import { batchFromRecords, encodeGpsBatch } from '../codecs/gps-batch.ts';
import { packMeta } from '../codecs/metadata.ts';
import type { Frame } from '../codecs/frame-types.ts';
import { setLogLevel } from '../log/logger.ts';
import { transportFor, type FrameChannel } from '../transport/index.ts';
import { dialQuicBytes, listenQuicBytes } from '../transport/quic-bytes.ts';
import { selfSignedTls, type ServerTls } from '../transport/tls.ts';
import type { ByteDuplex } from '../transport/types.ts';
import { dialWebTransportBytes, listenWebTransportBytes } from '../transport/webtransport-bytes.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * Throughput and round trip of each geoflux transport (frames of GPS batches on a FrameChannel), beside the
 * raw library moving the same payload bytes without geoflux framing.
 */

const fixes = (n: number) =>
  batchFromRecords(Array.from({ length: n }, (_, i) => ({ deviceId: `veh-${i % 50}`, t: 1.7e12 + i, lon: 7.42 + i * 1e-6, lat: 43.73, speed: 12, heading: 90, accuracy: 5 })));

interface Result {
  recordsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
}

/** Geoflux: a client FrameChannel sends Data frames of `perFrame` fixes; the server side counts records. */
async function geoflux(scheme: string, tls: ServerTls, perFrame: number, seconds: number): Promise<Result> {
  const url = new URL(scheme === 'memory' ? `memory://bench-${perFrame}` : scheme === 'quic' ? 'quic://127.0.0.1:0' : 'webtransport://127.0.0.1:0/bench');
  const t = await transportFor(url);
  let received = 0;
  let bytes = 0;
  const server = await t.listen(url, { tls }, (ch) =>
    ch.start({
      frame: (f) => {
        if (f.type === 'data') {
          received += new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(4, true);
          bytes += f.payload.length;
        } else if (f.type === 'ping') ch.send({ type: 'pong', id: f.id });
      },
      closed: () => {},
    }),
  );
  const ch = await t.dial(new URL(server.url), { insecure: true });
  const pongs = new Map<number, () => void>();
  ch.start({ frame: (f) => f.type === 'pong' && pongs.get(f.id)?.(), closed: () => {} });
  const frame: Frame = { type: 'data', tag: 16, seq: 0, from: '', meta: packMeta({ sid: 'bench', ct: 'gps' }), payload: encodeGpsBatch(fixes(perFrame)) };
  const start = now();
  const end = start + seconds * 1000;
  let sent = 0;
  let seq = 0;
  while (now() < end) {
    for (let k = 0; k < 64; k++) ch.send({ ...frame, seq: ++seq });
    sent += 64 * perFrame;
    if (ch.buffered > 512) await ch.drained();
    else await new Promise((r) => setImmediate(r));
  }
  while (received < sent) await new Promise((r) => setTimeout(r, 1));
  const secs = (now() - start) / 1000;
  const rtts = await roundTrips(ch, pongs);
  await ch.close();
  await server.close();
  return { recordsPerSec: received / secs, mbPerSec: bytes / secs / 1e6, ...rtts };
}

async function roundTrips(ch: FrameChannel, pongs: Map<number, () => void>, n = 1000) {
  const rtt: number[] = [];
  for (let i = 1; i <= n; i++) {
    const t0 = now();
    await new Promise<void>((r) => {
      pongs.set(i, r);
      ch.send({ type: 'ping', id: i });
    });
    rtt.push((now() - t0) * 1000);
  }
  rtt.sort((a, b) => a - b);
  return { p50: percentile(rtt, 50), p99: percentile(rtt, 99) };
}

/** The raw library: the same payload bytes written as they are (one write per frame payload), no framing. */
async function raw(scheme: string, tls: ServerTls, perFrame: number, seconds: number): Promise<Result> {
  let received = 0;
  let echo: ((d: ByteDuplex) => void) | undefined;
  const onDuplex = (d: ByteDuplex) => {
    if (echo) return echo(d);
    void (async () => {
      const r = d.readable.getReader();
      for (;;) {
        const { value, done } = await r.read();
        if (done) break;
        received += value.length;
      }
    })().catch(() => {});
  };
  const server =
    scheme === 'quic'
      ? await listenQuicBytes('127.0.0.1', 0, { tls }, onDuplex)
      : await listenWebTransportBytes('127.0.0.1', 0, '/raw', { tls }, onDuplex);
  const dial = () =>
    scheme === 'quic' ? dialQuicBytes('127.0.0.1', server.port, { insecure: true }) : dialWebTransportBytes(`https://127.0.0.1:${server.port}/raw`, { insecure: true });
  const d = await dial();
  const w = d.writable.getWriter();
  const payload = encodeGpsBatch(fixes(perFrame));
  const start = now();
  const end = start + seconds * 1000;
  let sent = 0;
  while (now() < end) {
    for (let k = 0; k < 64; k++) void w.write(payload);
    sent += 64 * payload.length;
    await w.ready;
    await w.write(new Uint8Array(0));
  }
  while (received < sent) await new Promise((r) => setTimeout(r, 1));
  const secs = (now() - start) / 1000;
  await d.close();
  // round trip: a second connection whose server echoes one byte
  echo = (e) => {
    void (async () => {
      const r = e.readable.getReader();
      const ew = e.writable.getWriter();
      for (;;) {
        const { value, done } = await r.read();
        if (done) break;
        await ew.write(value);
      }
    })().catch(() => {});
  };
  const e = await dial();
  const ew = e.writable.getWriter();
  const er = e.readable.getReader();
  const rtt: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = now();
    await ew.write(Uint8Array.of(i & 0xff));
    await er.read();
    rtt.push((now() - t0) * 1000);
  }
  rtt.sort((a, b) => a - b);
  await e.close();
  await server.close();
  return { recordsPerSec: (received / payload.length) * perFrame / secs, mbPerSec: received / secs / 1e6, p50: percentile(rtt, 50), p99: percentile(rtt, 99) };
}

export async function run(): Promise<void> {
  setLogLevel('warn');
  const seconds = Number(process.env.GEOFLUX_BENCH_SECONDS ?? 3);
  const tls = await selfSignedTls();
  const rows: (string | number)[][] = [];
  for (const scheme of ['quic', 'webtransport', 'memory']) {
    for (const perFrame of [1, 256]) {
      const g = await geoflux(scheme, tls, perFrame, seconds);
      const r = scheme === 'memory' ? undefined : await raw(scheme, tls, perFrame, seconds);
      rows.push([
        scheme,
        perFrame,
        fmt(g.recordsPerSec),
        scheme === 'memory' ? 'not copied' : g.mbPerSec.toFixed(1),
        r ? fmt(r.recordsPerSec) : '—',
        r ? r.mbPerSec.toFixed(1) : '—',
        r ? (r.recordsPerSec / g.recordsPerSec).toFixed(2) + 'x' : '—',
        `${fmt(g.p50)} / ${fmt(g.p99)}`,
        r ? `${fmt(r.p50)} / ${fmt(r.p99)}` : '—',
      ]);
      process.stderr.write(`  ${scheme} ${perFrame}/frame done\n`);
    }
  }
  console.log(
    table(
      ['transport', 'fixes/frame', 'geoflux fixes/s', 'geoflux MB/s', 'raw fixes/s', 'raw MB/s', 'raw ÷ geoflux', 'geoflux RTT p50/p99 µs', 'raw RTT p50/p99 µs'],
      rows,
    ),
  );
  console.log('\nraw = the library writing the same payload bytes, one write per frame, no geoflux framing or batching.');
  console.log('goals: each geoflux transport within 2x of its raw library (raw ÷ geoflux ≤ 2); memory ≥ 5M fixes/s.');
}
