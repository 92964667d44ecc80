import { map } from 'rxjs';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { connectSource, connectStreamFunction } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { selfSignedTls } from '../transport/tls.ts';
import { Zipper } from '../zipper/zipper.ts';
import { fmt, now, percentile, table, wallMs } from './stats.ts';

/**
 * Through the whole stack: a source SDK writes batches of fixes, the zipper routes them (acks, dedup,
 * partitioning on), a stream function SDK decodes them into records and hands them to an RxJS handler.
 */

async function through(scheme: 'quic' | 'webtransport' | 'memory', seconds: number) {
  const tls = await selfSignedTls();
  const listen = scheme === 'quic' ? ['quic://127.0.0.1:0'] : scheme === 'webtransport' ? ['webtransport://127.0.0.1:0/geoflux'] : [];
  const z = await Zipper.start(
    { name: `bench-${scheme}`, listen, tags: { gps: 16 }, functions: [{ name: 'count', observe: ['gps'], dispatch: { kind: 'partition', key: 'deviceId' } }] },
    { tls },
  );
  const zipper = scheme === 'memory' ? z.memoryUrl : z.listeners[0].url;
  const opts = { zipper, certHash: tls.certHash, spool: 1_000_000 };
  let received = 0;
  const latencies: number[] = [];
  const sfn = await connectStreamFunction({ name: 'count', observe: ['gps'], ...opts });
  sfn.handle((in$) =>
    in$.pipe(
      map((r: GpsRecord) => {
        received++;
        if (r.deviceId === 'probe') latencies.push(wallMs() - r.t);
      }),
    ),
  );
  const src = await connectSource({ name: 'bench', ...opts });
  const batch = batchFromRecords(
    Array.from({ length: 256 }, (_, i) => ({ deviceId: `veh-${i % 64}`, t: 1.7e12 + i, lon: 7.42, lat: 43.73, speed: 12, heading: 90, accuracy: 5 })),
  );
  const start = now();
  let sent = 0;
  let lastProbe = 0;
  while (now() - start < seconds * 1000) {
    if (!src.write('gps', batch)) await src.flush(1000);
    sent += batch.n;
    if (now() - lastProbe > 10) {
      src.write('gps', { deviceId: 'probe', t: wallMs(), lon: 7.42, lat: 43.73 });
      sent++;
      lastProbe = now();
    }
    await new Promise((r) => setImmediate(r));
  }
  while (received < sent && now() - start < seconds * 1000 + 20_000) await new Promise((r) => setTimeout(r, 2));
  const secs = (now() - start) / 1000;
  await src.close(1000);
  await sfn.close();
  await z.close(0);
  latencies.sort((a, b) => a - b);
  return { perSec: received / secs, lost: sent - received, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export async function run(): Promise<void> {
  setLogLevel('warn');
  const seconds = Number(process.env.GEOFLUX_BENCH_SECONDS ?? 3);
  const rows: (string | number)[][] = [];
  for (const scheme of ['quic', 'webtransport', 'memory'] as const) {
    const r = await through(scheme, seconds);
    rows.push([scheme, fmt(r.perSec), r.lost, r.p50.toFixed(2), r.p99.toFixed(2)]);
    process.stderr.write(`  ${scheme} done\n`);
  }
  console.log(table(['transport', 'fixes/s source→zipper→sfn', 'lost', 'latency p50 ms', 'latency p99 ms'], rows));
  console.log('\nbatches of 256 fixes (64 vehicles), partitioned by deviceId, acked end to end; latency of a 1-fix probe every 10 ms.');
}
