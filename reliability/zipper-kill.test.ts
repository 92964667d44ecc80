import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connectSource, connectStreamFunction, setLogLevel } from '../index.ts';
import { freeUdpPort } from '../testing/free-port.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * A zipper that dies: `geoflux serve` is killed with SIGKILL in the middle of a stream, over real QUIC. The
 * source and the function notice within seconds (heartbeats), spool, and when serve is back on the same
 * port (with the same certificate, kept in its state directory, so pinned clients trust it) every fix the
 * source wrote arrives exactly once; and a `geoflux sim` whose zipper never comes back says what it lost.
 */
setLogLevel('silent');

// each fix known by its time: one ms apart
const fix = (i: number) => ({ deviceId: `veh-${i % 50}`, t: Date.UTC(2026, 0, 1) + i, lon: 7.42, lat: 43.73, speed: 10 });

describe('a zipper killed mid-stream', () => {
  it('loses nothing: after a restart every fix written arrives exactly once, and close() says nothing is unacknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-kill-'));
    const env = { GEOFLUX_TEST_LISTEN: `quic://127.0.0.1:${await freeUdpPort()}`, GEOFLUX_TEST_STATE: join(dir, 'state') };
    let serve = await startServe('reliability/testdata/relay.yaml', env);
    const trust = { zipper: serve.url, certHash: serve.certHash, maxBackoff: 500 };
    const seen = new Map<number, number>();
    const collector = await connectStreamFunction({ name: 'collector', observe: ['gps'], ...trust });
    collector.handle((in$) => in$.pipe(tap((r: { t: number }) => seen.set(r.t, (seen.get(r.t) ?? 0) + 1))));
    const source = await connectSource({ name: 'gw', ...trust });
    const N = 3000;
    let i = 0;
    const writeSome = async (n: number) => {
      for (const end = i + n; i < end; i += 50) {
        source.write('gps', Array.from({ length: 50 }, (_, j) => fix(i + j)));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      await writeSome(1000);
      serve.child.kill('SIGKILL');
      await serve.exited;
      await waitFor(() => !source.stats().connected, { ms: 10_000, what: 'the source to notice' });
      await writeSome(1000); // spooled while the zipper is away
      await new Promise((r) => setTimeout(r, 3000));
      serve = await startServe('reliability/testdata/relay.yaml', env);
      expect(serve.certHash).toBe(trust.certHash);
      await writeSome(N - 2000);
      const report = await source.close(30_000);
      expect(report).toMatchObject({ unacked: 0, dropped: 0 });
      await waitFor(() => seen.size === N, { ms: 30_000, what: `all ${N} fixes at the function` });
      expect([...seen.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await collector.close();
      await serve.stop();
    }
  }, 120_000);

  it('makes `geoflux sim` exit 1 saying how many fixes may be lost, when it never comes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-kill-'));
    const env = { GEOFLUX_TEST_LISTEN: `quic://127.0.0.1:${await freeUdpPort()}`, GEOFLUX_TEST_STATE: join(dir, 'state') };
    const serve = await startServe('reliability/testdata/relay.yaml', env);
    const collector = await connectStreamFunction({ name: 'collector', observe: ['gps'], zipper: serve.url, certHash: serve.certHash });
    let arrived = 0;
    collector.handle((in$) => in$.pipe(tap(() => arrived++)));
    const sim = new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const args = ['bin/geoflux.js', 'sim', '--network', '../shared/data/osm/monaco.osm.pbf', '--vehicles', '50', '--duration', '60', '--speed', '10x'];
      execFile(process.execPath, [...args, '--zipper', serve.url, '--cert-hash', serve.certHash, '--ack-timeout', '2000'], (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
    });
    // killed once the sim is streaming (a fixed wait raced its start on a loaded machine)
    await waitFor(() => arrived > 0, { ms: 60_000, what: 'fixes from the sim' });
    serve.child.kill('SIGKILL');
    await collector.close();
    const { code, stderr } = await sim;
    expect(code).toBe(1);
    expect(stderr).toMatch(/reconnecting/);
    expect(stderr).toMatch(/geoflux sim: [\d,]+ of [\d,]+ fixes not acknowledged by the zipper within \d+ ms \(--ack-timeout\): whether they reached it is not known/);
  }, 120_000);
});
