import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { setLogLevel } from '../log/logger.ts';
import { connectSource } from '../source/connect-source.ts';
import { serveWithSquares } from '../testing/squares-serve.ts';

setLogLevel('silent');
const TOKEN = 'replace-control';

const module = (file: string) => {
  const wasm = new Uint8Array(readFileSync(resolve(file)));
  return { wasm, hash: createHash('sha256').update(wasm).digest('hex') };
};
/** a kernel that keeps no state (docs/kernel-abi.md: it exports no device) */
const SPEED_LIMIT = module('kernels/build/testing/speed-limit.wasm');
/** a kernel that keeps each device's state (the fences it is in, its last fix) */
const GEOFENCE = module('kernels/build/geofence.wasm');

describe('a deployed function replaced by a version of another kernel', () => {
  it('takes over from a version that held no state without --fresh-state, and says so; a version that held state of another kernel is still refused', { timeout: 120_000 }, async () => {
    const { trust, close } = await serveWithSquares(`name: swap\nlisten: [quic://127.0.0.1:0]\ncontrol: { token: ${TOKEN} }\ntags: { gps: 16, fast: 17, fences: 18 }\nfunctions: []\n`);
    const src = await connectSource({ name: 'gw', zipper: trust.zipper, certHash: trust.certHash });
    let t = 1_700_000_000_000;
    const fixes = async () => {
      t += 1000;
      src.write('gps', ['veh-1', 'veh-2'].map((deviceId) => ({ deviceId, t, lon: 0.5, lat: 0.5, speed: 9 })));
      expect(await src.flush(20_000)).toBe(true);
    };
    const deploy = (k: { wasm: Uint8Array; hash: string }, emit: string, params: Record<string, unknown>) =>
      controlRequest({ ...trust, token: TOKEN }, { op: 'deploy', name: 'checker', observe: ['gps'], emit: [emit], params, min: 1, max: 1, ...k });
    try {
      expect(await deploy(SPEED_LIMIT, 'fast', { limit: 5 })).toMatchObject({ ok: true });
      await fixes();
      const stateful = await deploy(GEOFENCE, 'fences', { fences: 'squares.geojson' });
      expect(stateful).toMatchObject({ ok: true, message: expect.stringContaining('no state to hand over (the running version held none)') });
      // the geofence now holds both vehicles: a kernel of another layout cannot take them
      await fixes();
      expect(await deploy(SPEED_LIMIT, 'fast', { limit: 5 })).toEqual({
        ok: false,
        error: expect.stringMatching(/^function "checker": the new version cannot take the running version's state \(not a speeding device export: it holds the state of kernel geofence\): its state layout is incompatible/),
      });
    } finally {
      await src.close(0);
      await close();
    }
  });
});
