import { expect, it } from 'vitest';
import { EventIds, placeOf } from './event-ids.ts';

it('numbers the events of one origin in the order stamped, apart from another origin, and keeps an id an event brought', () => {
  const ids = new EventIds();
  const events: Record<string, unknown>[] = [{}, {}, {}, { id: 'mine' }];
  ids.stamp(events[0], 'a');
  ids.stamp(events[1], 'b');
  ids.stamp(events[2], 'a');
  ids.stamp(events[3], 'a');
  expect(events.map((e) => e.id)).toEqual(['a:0', 'b:0', 'a:1', 'mine']);
});

it("places a fix by its device and t, an event by its device, its fix's ISO time (the same instant) and its content, and nothing else", () => {
  const t = Date.UTC(2026, 0, 1, 8);
  expect(placeOf({ deviceId: 'v1', t, lon: 0, lat: 0 })).toBe(`v1:${t}`);
  const [exit, enter] = ['exit', 'enter'].map((detect) => placeOf({ kind: 'geofence', detect, deviceId: 'v1', time: new Date(t).toISOString() }));
  expect(exit).toMatch(new RegExp(`^v1:${t}:[0-9a-f]+$`));
  expect(enter).toMatch(new RegExp(`^v1:${t}:[0-9a-f]+$`));
  expect(enter).not.toBe(exit);
  expect(placeOf({ kind: 'geofence', detect: 'enter', deviceId: 'v1', time: new Date(t).toISOString() })).toBe(enter);
  expect([{ deviceId: 'v1' }, { t }, { deviceId: 'v1', time: 'soon' }, null, 7].map(placeOf)).toEqual([undefined, undefined, undefined, undefined, undefined]);
});
