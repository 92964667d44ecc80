import { expect, it } from 'vitest';
import { deviceMoment, EventIds } from './event-ids.ts';

it('numbers the events of one origin in the order stamped, apart from another origin, and keeps an id an event brought', () => {
  const ids = new EventIds();
  const events: Record<string, unknown>[] = [{}, {}, {}, { id: 'mine' }];
  ids.stamp(events[0], 'a');
  ids.stamp(events[1], 'b');
  ids.stamp(events[2], 'a');
  ids.stamp(events[3], 'a');
  expect(events.map((e) => e.id)).toEqual(['a:0', 'b:0', 'a:1', 'mine']);
});

it("places a fix by its t and an event by its fix's ISO time, the same instant either way, and nothing else", () => {
  const t = Date.UTC(2026, 0, 1, 8);
  expect(deviceMoment({ deviceId: 'v1', t, lon: 0, lat: 0 })).toBe(`v1:${t}`);
  expect(deviceMoment({ deviceId: 'v1', time: new Date(t).toISOString() })).toBe(`v1:${t}`);
  expect([{ deviceId: 'v1' }, { t }, { deviceId: 'v1', time: 'soon' }, null, 7].map(deviceMoment)).toEqual([undefined, undefined, undefined, undefined, undefined]);
});
