import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame } from '../codecs/frame.ts';
import { setLogLevel } from '../log/logger.ts';
import { connectSource } from '../source/connect-source.ts';
import { DEFAULT_HEARTBEAT, DEFAULT_IDLE_TIMEOUT } from '../transport/liveness.ts';
import { dialQuicBytes } from '../transport/quic-bytes.ts';
import { signal, startZipperChild, type ZipperChild } from '../transport/testdata/child.ts';
import { recoveryRows } from './fault-recovery.ts';
import { waitFor } from '../testing/wait-for.ts';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * How long a source takes to notice that its zipper is gone: the zipper runs in a child process, a source in
 * this one writes a fix every 10 ms, then the child is killed (SIGKILL) or frozen (SIGSTOP: a peer behind a
 * dead link, no FIN or RST). Measured from the signal to `stats().connected` turning false. Beside them, QUIC's
 * own idle timeout alone (set to 2 s, no heartbeat), at the byte level: the alternative to the heartbeat.
 */

const REPS = Number(process.env.GEOFLUX_BENCH_REPS ?? 5);
const POLL = 2;

const listenOn = { quic: 'quic://127.0.0.1:0', webtransport: 'webtransport://127.0.0.1:0/geoflux' } as const;
type Scheme = keyof typeof listenOn;

/** ms from the signal until the source says it is not connected */
async function sourceNotices(scheme: Scheme, sig: 'SIGKILL' | 'SIGSTOP', dir: string): Promise<number> {
  const z = await startZipperChild(listenOn[scheme], dir);
  const src = await connectSource({ name: 'bench', zipper: z.url, certHash: z.certHash, maxBackoff: 60_000 });
  let t = 0;
  const writing = setInterval(() => src.write('gps', { deviceId: 'veh-1', t: t++, lon: 7.42, lat: 43.73 }), 10);
  try {
    await src.flush(10_000);
    const t0 = now();
    await signal(z.child, sig);
    await waitFor(() => !src.stats().connected, { every: POLL, ms: 60_000, what: 'the source to notice' });
    return now() - t0;
  } finally {
    clearInterval(writing);
    await signal(z.child, 'SIGKILL');
    await src.close(0);
  }
}

/** ms from the signal until a raw QUIC stream with a 2 s QUIC idle timeout, and no heartbeat, fails */
async function quicIdleAlone(dir: string): Promise<number> {
  const z: ZipperChild = await startZipperChild(listenOn.quic, dir);
  const url = new URL(z.url);
  const d = await dialQuicBytes(url.hostname, Number(url.port), { certHash: z.certHash, quicIdleTimeout: 2000 });
  const w = d.writable.getWriter();
  const ping = encodeFrame({ type: 'ping', id: 0 }); // what the zipper's channel takes and drops
  const failed = (async () => {
    try {
      for (;;) {
        await w.write(ping);
        await new Promise((r) => setTimeout(r, 10));
      }
    } catch {
      return now();
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 200));
    const t0 = now();
    await signal(z.child, 'SIGKILL');
    return (await failed) - t0;
  } finally {
    await d.close().catch(() => {});
  }
}

async function repeat(what: string, once: () => Promise<number>): Promise<(string | number)[]> {
  const ms: number[] = [];
  for (let i = 0; i < REPS; i++) ms.push(await once());
  ms.sort((a, b) => a - b);
  process.stderr.write(`  ${what}: ${ms.map((m) => m.toFixed(0)).join(', ')} ms\n`);
  return [REPS, fmt(percentile(ms, 50)), fmt(ms[ms.length - 1])];
}

export async function run(): Promise<void> {
  setLogLevel('silent');
  const dir = await mkdtemp(join(tmpdir(), 'geoflux-bench-faults-'));
  const rows: (string | number)[][] = [];
  try {
    for (const scheme of ['quic', 'webtransport'] as const) {
      for (const sig of ['SIGKILL', 'SIGSTOP'] as const) {
        const how = scheme === 'webtransport' && sig === 'SIGKILL' ? 'TCP reset by the kernel' : `heartbeat idle timeout (${DEFAULT_IDLE_TIMEOUT} ms)`;
        rows.push([scheme, `${sig === 'SIGKILL' ? 'killed' : 'frozen'} (${sig})`, how, ...(await repeat(`${scheme} ${sig}`, () => sourceNotices(scheme, sig, join(dir, scheme))))]);
      }
    }
    rows.push(['quic (raw stream)', 'killed (SIGKILL)', 'QUIC idle timeout 2 s alone, no heartbeat', ...(await repeat('quic idle alone', () => quicIdleAlone(join(dir, 'quic'))))]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log('time to notice a dead zipper\n');
  console.log(table(['transport', 'zipper', 'noticed by', 'runs', 'median ms', 'max ms'], rows));
  console.log(`\nfrom the signal to the source reporting connected: false (raw stream: to its write failing); defaults: heartbeat ${DEFAULT_HEARTBEAT} ms, idleTimeout ${DEFAULT_IDLE_TIMEOUT} ms.`);
  console.log('\nwhat faults cost, against a real geoflux serve\n');
  console.log(table(['fault', 'cost'], await recoveryRows()));
}
