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
