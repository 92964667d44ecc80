import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cKernel } from '../testing/c-kernel.ts';
import { expectFenceEventsAlternate, recordRows, timeOf } from '../testing/mqtt-rows.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { sequenceKernelSource } from '../testing/sequence-kernel.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';

/**
 * Replacing a deployed function while a live fleet runs through it: `geoflux serve` in a process of its own
 * (a real zipper over QUIC, the traffic simulator, the MQTT sinks on the embedded broker on port 0), the
 * deploys by `geoflux deploy` in processes of their own. What the fleet sends is published raw beside what
 * the functions make of it, so that every fix can be accounted for across the switch.
 */

const MONACO = resolve('../shared/data/osm/monaco.osm.pbf');
const GEOFENCE = resolve('kernels/build/geofence.wasm');

const workflow = controlWorkflow('replace-test', {
  rest: `  - name: raw-out
    observe: [gps]
    sink: mqtt
    params: { topic: 'raw/{deviceId}' }
sources:
  - name: traffic
    run: builtin:traffic
    params: { network: ${MONACO}, vehicles: 20, seed: 7, duration: 100000, speed: 20x }
`,
});

describe('a deployed function replaced by a new version while the fleet runs', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('loses no fix, handles none twice, fires no second enter; an incompatible state is refused unless --fresh-state', { timeout: 240_000 }, async (ctx) => {
    const [v1, v2, other] = [sequenceKernelSource(1), sequenceKernelSource(2), sequenceKernelSource(2, 'counter')].map((src) => cKernel(ctx, src));
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-replace-'));
    dirs.push(dir);
    const file = join(dir, 'workflow.yaml');
    await writeFile(file, workflow);
    const serve = await startServe(file);
    const deploy = (kernel: string, name: string, extra: string[]) =>
      runGeoflux(['deploy', kernel, '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token', '--name', name, '--observe', 'gps', '--emit', 'alerts', ...extra]);
    const mq = await recordRows(serve.out.stderr.match(/MQTT: embedded broker (mqtt:\/\/\S+)/)![1]);
    try {
      const { kindRows } = mq;
      const seqRows = () => kindRows('sequence');
      const fenceRows = () => kindRows('geofence');

      // v1 with one instance; the geofence (Monaco's boundary: every vehicle is inside) with its first params
      const first = await deploy(v1, 'seq', []);
      expect(first.stderr).toBe('');
      const fenceParams = { fences: MONACO, detect: ['enter', 'exit'] };
      const fence1 = await deploy(GEOFENCE, 'fence', ['--params', JSON.stringify(fenceParams)]);
      expect(fence1.stderr).toBe('');
      await waitFor(() => seqRows().filter(([, rs]) => rs.length >= 10).length >= 10 && fenceRows().length >= 10, { what: 'rows of 10 vehicles from both functions', ms: 60_000 });

      // v2 emits an extra field and runs two instances, each taking every device's state; the geofence's new
      // version is its params (a new version is another module, other params or other tags)
      const second = await deploy(v2, 'seq', ['--min', '2', '--max', '2']);
      expect(second.stderr).toBe('');
      expect(second.stdout).toMatch(/function "seq" runs kernel [0-9a-f]{64} \(gps → alerts, 2 instances; .*\); replaced kernel [0-9a-f]{12}…, its state handed over, frames held \d+ ms during the switch/);
      // v2 of the geofence reports `inside` at every fix too: at once for a vehicle whose state came over, only
      // after a second enter for one whose state was lost
      const fence2 = await deploy(GEOFENCE, 'fence', ['--params', JSON.stringify({ ...fenceParams, detect: ['enter', 'exit', 'inside'] })]);
      expect(fence2.stdout).toMatch(/replaced the same kernel with other settings, its state handed over/);
      const newer = () => seqRows().filter(([, rs]) => rs.filter((r) => r.version === 2).length >= 10).length;
      await waitFor(newer, { what: 'v2 rows of 10 vehicles', until: (n) => n >= 10, ms: 60_000 });
      const insideLong = () => fenceRows().filter(([, rs]) => rs.filter((r) => r.detect === 'inside').length >= 40).length;
      await waitFor(insideLong, { what: 'the new geofence reporting 10 vehicles inside for 40 fixes', until: (n) => n >= 10, ms: 60_000 });

      // every fix the fleet sent while `seq` ran went through it exactly once, in order, across the switch (and,
      // checked again at the end, across the refused replace, up to the fresh one, whose rows are another kind);
      // no vehicle already inside is entered again
      const noLossAcrossTheSwitches = () => {
        const switched = seqRows().filter(([, rs]) => rs.some((r) => r.version === 2) && rs.some((r) => r.version === undefined));
        expect(switched.length).toBeGreaterThanOrEqual(10);
        for (const [device, rs] of seqRows()) {
          const seqs = rs.map((r) => r.seq);
          expect.soft(seqs, `${device}: a fix lost or handled twice`).toEqual(seqs.map((_, i) => i + 1));
          const versions = rs.map((r) => r.version ?? 1).join('');
          expect.soft(versions, `${device}: versions in order`).toMatch(/^1*2*$/);
          const sent = (mq.raw.get(device) ?? []).map(timeOf);
          const from = sent.indexOf(timeOf(rs[0]));
          expect.soft(rs.map(timeOf), `${device}: the rows are the fixes sent`).toEqual(sent.slice(from, from + rs.length));
        }
        expectFenceEventsAlternate(fenceRows());
      };
      noLossAcrossTheSwitches();

      // a kernel whose state is another's (another name) cannot take it: refused, v2 goes on
      const incompatible = await deploy(other, 'seq', []);
      expect(incompatible.code).toBe(1);
      expect(incompatible.stderr).toMatch(/refused: function "seq": the new version cannot take the running version's state \(.*\): its state layout is incompatible; not replaced \(--fresh-state replaces it with empty state\)/);
      // the list, written with the new version before the replace, is written back with v2 at its refusal
      const saved = JSON.parse(await readFile(join(dir, '.geoflux', 'deployments.json'), 'utf8')) as { name: string; hash: string }[];
      expect(saved.find((d) => d.name === 'seq')!.hash).toBe(second.stdout.match(/kernel ([0-9a-f]{64})/)![1]);
      const before = seqRows().reduce((n, [, rs]) => n + rs.length, 0);
      await waitFor(() => seqRows().reduce((n, [, rs]) => n + rs.length, 0), { what: 'v2 rows still flowing after the refusal', until: (n) => n > before + 100, ms: 30_000 });

      // --fresh-state: the incompatible version starts empty, counting from 1 again
      const fresh = await deploy(other, 'seq', ['--fresh-state']);
      expect(fresh.stdout).toMatch(/starting with empty state \(--fresh-state\)/);
      await waitFor(() => kindRows('counter').length, { what: 'rows of the fresh version', until: (n) => n >= 5, ms: 60_000 });
      for (const [, rs] of kindRows('counter')) expect(rs[0].seq).toBe(1);

      noLossAcrossTheSwitches();
    } finally {
      await mq.end();
      await serve.stop();
    }
  });
});
