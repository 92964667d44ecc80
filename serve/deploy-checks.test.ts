import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { connectSource } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { SQUARES } from '../testing/fence-squares.ts';
import { parseWorkflow } from '../workflows/load.ts';
import type { DeployRequest } from '../zipper/control.ts';
import { sha256 } from './deployment-store.ts';
import { serveWorkflow, type ServedWorkflow } from './serve-workflow.ts';

setLogLevel('silent');

/**
 * What the control channel refuses of a deploy, and how it numbers versions: a serve in this process, its
 * zipper over QUIC, asked as `geoflux deploy` asks (every client goes through these checks).
 */

const TOKEN = 'control-token';
const workflow = `name: checks
listen: [quic://127.0.0.1:0]
control: { token: ${TOKEN} }
tags: { gps: 16, fences: 17 }
functions: []
`;
const SPEED_LIMIT = new Uint8Array(readFileSync(resolve('kernels/build/testing/speed-limit.wasm')));
const GEOFENCE = new Uint8Array(readFileSync(resolve('kernels/build/geofence.wasm')));

describe('a deploy over the control channel', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** a serve of `workflow` in a folder of its own (beside squares.geojson), and a deploy to it */
  async function serveIn(dir?: string) {
    dir ??= mkdtempSync(join(tmpdir(), 'geoflux-deploy-checks-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'squares.geojson'), JSON.stringify(SQUARES));
    const served: ServedWorkflow = await serveWorkflow(parseWorkflow(workflow, join(dir, 'workflow.yaml'), {}));
    const trust = { zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash };
    const deploy = (req: Partial<DeployRequest> & { name: string }, wasm = SPEED_LIMIT) =>
      controlRequest({ ...trust, token: TOKEN }, { op: 'deploy', observe: ['gps'], emit: ['fences'], params: { limit: 5 }, min: 1, max: 1, wasm, hash: sha256(wasm), ...req });
    /** the zipper's names of what runs: a version's own (`a@2`) */
    const running = () => served.zipper.functionLoad().map((l) => l.name).sort();
    return { dir, served, trust, deploy, running };
  }

  it('refuses, with the reason, a name too long for its state file, --max past a function\'s instances, a tag named twice', { timeout: 60_000 }, async () => {
    const { served, deploy, running } = await serveIn();
    try {
      expect(await deploy({ name: 'a'.repeat(300) })).toEqual({ ok: false, error: `--name "${'a'.repeat(32)}…" has at most 100 characters (its state is saved to a file of its name)` });
      expect(await deploy({ name: 'fast', max: 100_000 })).toEqual({ ok: false, error: expect.stringMatching(/^--max 100000: a function has at most 1024 instances, as a workflow's `instances:` \(each may take up to 64 MiB/) });
      expect(await deploy({ name: 'fast', observe: ['gps', 'gps'] })).toEqual({ ok: false, error: '--observe names "gps" twice' });
      expect(await deploy({ name: 'fast', observe: ['gps'], emit: ['fences', 'fences'] })).toEqual({ ok: false, error: '--emit names "fences" twice' });
      expect(running()).toEqual([]);
      expect(await deploy({ name: 'a'.repeat(100), max: 1024 })).toMatchObject({ ok: true });
    } finally {
      await served.stop();
    }
  });

  it("numbers each function's versions from its own first, a refused replace taking none, and goes on from there after a restart", { timeout: 120_000 }, async () => {
    const first = await serveIn();
    let again: Awaited<ReturnType<typeof serveIn>> | undefined;
    try {
      expect(await first.deploy({ name: 'a' })).toMatchObject({ ok: true });
      expect(await first.deploy({ name: 'a', params: { limit: 6 } })).toMatchObject({ ok: true });
      const fence = { name: 'b', params: { fences: 'squares.geojson', debounce: false } };
      expect(await first.deploy(fence, GEOFENCE)).toMatchObject({ ok: true });
      // b holds a device's state, which a kernel that keeps none cannot take: that replace is refused
      const source = await connectSource({ name: 'fleet', ...first.trust });
      source.write('gps', [{ deviceId: 'v0', t: 0, lon: 0, lat: 0 }]);
      expect(await source.flush(10_000)).toBe(true);
      await source.close();
      expect(await first.deploy({ name: 'b' })).toMatchObject({ ok: false, error: expect.stringContaining("cannot take the running version's state") });
      expect(await first.deploy({ ...fence, params: { ...fence.params, debounce: true } }, GEOFENCE)).toMatchObject({ ok: true });
      expect(first.running()).toEqual(['a@2', 'b@2']);
      await first.served.stop();
      again = await serveIn(first.dir);
      expect(again.running()).toEqual(['a@2', 'b@2']);
      expect(await again.deploy({ name: 'a', params: { limit: 7 } })).toMatchObject({ ok: true });
      expect(again.running()).toEqual(['a@3', 'b@2']);
    } finally {
      await (again ?? first).served.stop();
    }
  });
});
