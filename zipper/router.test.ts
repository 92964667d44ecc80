import { describe, expect, it } from 'vitest';
import { buildRoutes, partitionOwner, roundRobin, type FunctionSpec, type Instance } from './router.ts';

const specs: FunctionSpec[] = [
  { name: 'speeding', observe: [16], dispatch: { kind: 'partition', key: 'deviceId' } },
  { name: 'archive', observe: [16, 17], dispatch: { kind: 'balance' } },
  { name: 'printer', observe: [17], dispatch: { kind: 'balance' } },
];
const joined = new Map<string, Instance<string>[]>([
  ['speeding', [{ id: 's1', conn: 'S1' }, { id: 's2', conn: 'S2' }]],
  ['archive', [{ id: 'a1', conn: 'A1' }, { id: 'a2', conn: 'A2' }, { id: 'a3', conn: 'A3' }]],
]);

describe('router', () => {
  const routes = buildRoutes(specs, joined);

  it('fans a tag out to every function name observing it', () => {
    expect(routes.byTag.get(16)!.map((r) => r.spec.name)).toEqual(['speeding', 'archive']);
    expect(routes.byTag.get(17)!.map((r) => r.spec.name)).toEqual(['archive', 'printer']);
    expect(routes.byTag.get(99)).toBeUndefined();
  });

  it('rotates among instances of one name', () => {
    const r = routes.byName.get('archive')!;
    expect([0, 1, 2, 3, 4, 5].map((i) => roundRobin(r, i))).toEqual(['A1', 'A2', 'A3', 'A1', 'A2', 'A3']);
  });

  it('keeps a partition key on one instance, and knows a function with no instance', () => {
    const r = routes.byName.get('speeding')!;
    const owner = partitionOwner(r, 'truck-7');
    for (let i = 0; i < 10; i++) expect(partitionOwner(r, 'truck-7')).toBe(owner);
    expect(roundRobin(routes.byName.get('printer')!, 0)).toBeUndefined();
  });
});
