import { describe, expect, it } from 'vitest';
import { batchFromRecords, decodeGpsBatch, encodeGpsBatch } from '../codecs/gps-batch.ts';
import { buildRoutes, partitionOwner, roundRobin, routeFrame, type FunctionSpec, type Instance, type RoutedFrame } from './router.ts';

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

describe('the route of one frame', () => {
  const gps = (rows: [string, number][]) => encodeGpsBatch(batchFromRecords(rows.map(([deviceId, lon]) => ({ deviceId, t: 0, lon, lat: 0 }))));
  const frame = (tag: number, payload: Uint8Array, meta: Record<string, unknown> = {}): RoutedFrame => ({ tag, payload, meta: () => meta });
  const counters = () => {
    const rr = new Map<string, number>();
    return (fn: string) => () => {
      const i = rr.get(fn) ?? 0;
      rr.set(fn, i + 1);
      return i;
    };
  };

  it('drops what is written to a zipper tag, and what nothing observes', () => {
    const routes = buildRoutes(specs, joined);
    expect(routeFrame(routes, frame(3, new Uint8Array(1)), counters()).dropped).toBe('forbidden');
    expect(routeFrame(routes, frame(99, new Uint8Array(1)), counters()).dropped).toBe('unrouted');
  });

  it('holds for a function with no instance, and sends the others their share', () => {
    const routes = buildRoutes(specs, joined);
    const d = routeFrame(routes, frame(17, new Uint8Array([0x90])), counters());
    expect(d.holds).toEqual(['printer']);
    expect(d.sends.map((s) => `${s.fn}→${s.to}`)).toEqual(['archive→A1']);
  });

  it('sends a keyed frame to the key’s owner, and splits a gateway’s batch by device', () => {
    const routes = buildRoutes(specs, joined);
    const r = routes.byName.get('speeding')!;
    const keyed = routeFrame(routes, frame(16, new Uint8Array(1), { deviceId: 'truck-7' }), counters());
    expect(keyed.sends.find((s) => s.fn === 'speeding')!.to).toBe(partitionOwner(r, 'truck-7'));
    const devices = Array.from({ length: 40 }, (_, i) => `veh-${i}`);
    const batch = gps(devices.map((d, i) => [d, i]));
    const split = routeFrame(routes, frame(16, batch, { ct: 'gps' }), counters()).sends.filter((s) => s.fn === 'speeding');
    expect(split.length).toBe(2);
    for (const s of split) for (const id of decodeGpsBatch(s.payload).devices) expect(partitionOwner(r, id)).toBe(s.to);
    expect(split.reduce((n, s) => n + decodeGpsBatch(s.payload).n, 0)).toBe(40);
  });

  it('sends a frame with no key round robin, and counts it', () => {
    const routes = buildRoutes(specs, joined);
    const next = counters();
    const picks = [0, 1, 2, 3].map(() => routeFrame(routes, frame(16, new Uint8Array([0x91, 1]), { ct: 'msgpack' }), next));
    expect(picks.map((d) => d.sends.find((s) => s.fn === 'speeding')!.to)).toEqual(['S1', 'S2', 'S1', 'S2']);
    expect(picks.every((d) => d.unkeyed === 1)).toBe(true);
  });

  it('sends an unreadable GPS batch whole, saying why', () => {
    const d = routeFrame(buildRoutes(specs, joined), frame(16, new Uint8Array([0x47, 0x42, 9]), { ct: 'gps' }), counters());
    expect(d.unreadable).toMatch(/GPS batch/);
    expect(d.sends.filter((s) => s.fn === 'speeding').length).toBe(1);
  });
});
