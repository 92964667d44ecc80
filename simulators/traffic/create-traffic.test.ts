import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { createTraffic } from './create-traffic.ts';

const MONACO = '../shared/data/osm/monaco.osm.pbf';
const firstPositions = async (c: { prefix?: string; seed?: number }) => (await createTraffic({ network: MONACO, vehicles: 5, ...c })).sim.step().fixes.map((f) => `${f.lon},${f.lat}`);

it('drives two fleets for two prefixes, the same fleet for the same prefix, and what a seed says when given', async () => {
  const [a, a2, b] = [await firstPositions({ prefix: 'a' }), await firstPositions({ prefix: 'a' }), await firstPositions({ prefix: 'b' })];
  expect(a2).toEqual(a);
  expect(b).not.toEqual(a);
  expect(await firstPositions({ prefix: 'b', seed: 7 })).toEqual(await firstPositions({ prefix: 'a', seed: 7 }));
});

it('refuses a prefix where a scenario drives its own fleets, rather than ignore it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-scenario-'));
  try {
    writeFileSync(join(dir, 'city.yaml'), `network: ${resolve(MONACO)}\nfleets: [{ name: bus, vehicles: 2 }]\n`);
    await expect(createTraffic({ scenario: 'city.yaml', prefix: 'edge-b' }, dir)).rejects.toThrow(/prefix "edge-b" names the default fleet's vehicles/);
    expect((await createTraffic({ scenario: 'city.yaml', prefix: 'edge-b', vehicles: 2 }, dir)).sim.step().fixes.map((f) => f.deviceId)).toEqual(['edge-b-001', 'edge-b-002']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
