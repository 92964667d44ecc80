import { expect, it } from 'vitest';
import { writes } from '../simulators/traffic.ts';
import { unconnectedSource } from './unconnected-source.ts';

it('a simulator posing as phones gets no zipper connection, and a write to it says why', async () => {
  expect([writes({}), writes({ as: 'osmand' })]).toEqual([true, false]);
  const s = unconnectedSource('phones');
  expect(() => s.write('gps', { deviceId: 'a', t: 0, lon: 0, lat: 0 })).toThrow('source "phones" said it writes nothing to the zipper');
  expect(await s.close()).toEqual({ unacked: 0, dropped: 0, refused: 0, waited: 0 });
});
