import { describe, expect, it } from 'vitest';
import { formatAlert } from './format-alert.ts';

describe('formatAlert', () => {
  it.each([
    [
      { kind: 'geofence', detect: 'enter', fence: { id: '3', name: 'Monte-Carlo' }, deviceId: 'veh-007', time: '2026-01-01T08:00:12.000Z', point: [7.42, 43.74] },
      '08:00:12  geofence enter     veh-007        Monte-Carlo                          7.42000,43.74000',
    ],
    [
      { kind: 'roam', detect: 'nearby', deviceId: 'bus-12', time: '2026-01-01T08:00:05.000Z', confirmed: '2026-01-01T08:00:13.000Z', point: [7.42, 43.74], other: { deviceId: 'taxi-3', point: [7.4203, 43.7401], distance: 31.6 } },
      '08:00:05  roam nearby        bus-12         near taxi-3, 32 m                    7.42000,43.74000',
    ],
    [
      { kind: 'roam', detect: 'faraway', deviceId: 'taxi-3', time: '2026-01-01T08:01:40.000Z', confirmed: '2026-01-01T08:01:48.000Z', point: [7.421, 43.741], other: { deviceId: 'bus-12', point: [7.42, 43.74], distance: 88 } },
      '08:01:40  roam faraway       taxi-3         away from bus-12, 88 m               7.42100,43.74100',
    ],
    [
      { kind: 'hotspot', detect: 'hot', cell: { id: '12:40', bbox: [7.41, 43.72, 7.412, 43.722] }, z: 4.123, count: 37, window: { start: '2026-01-01T07:55:00Z', end: '2026-01-01T08:00:00Z' } },
      '08:00:00  hotspot hot        cell 12:40     z 4.1, 37 in the window              7.41100,43.72100',
    ],
    [
      { kind: 'mapmatch', detect: 'traversal', deviceId: 'veh-1', t: 0, time: '2026-01-01T08:00:01Z', lon: 7.4, lat: 43.7, speed: 2.5, edge: 9, wayId: 4097, length: 80.4, limit: 13.9, complete: true },
      '08:00:01  mapmatch traversal veh-1          way 4097: 9 km/h over 80 m (limit 50 km/h) 7.40000,43.70000',
    ],
    // its id, which a reader uses to drop a repeat, is no news to one who reads the line
    [{ kind: 'speeding', deviceId: 'veh-2', time: '2026-01-01T08:00:02Z', kmh: 61, id: 'speed:veh-2:1767254402000:speeding:0' }, '08:00:02  speeding           veh-2          kmh=61'],
    // a fix's speed comes out of its batch as an f32: shown as the 15.66 it was written as
    [{ kind: 'speeding', deviceId: 'veh-3', time: '2026-01-01T08:00:03Z', speed: Math.fround(15.66), note: 'fast' }, '08:00:03  speeding           veh-3          speed=15.66 note=fast'],
    // a fence's name is the user's file's: its escape sequence is shown, not acted on
    [
      { kind: 'geofence', detect: 'enter', fence: { id: '4', name: '\u001b[2Jyard' }, deviceId: 'veh-8', time: '2026-01-01T08:00:04.000Z', point: [7.42, 43.74] },
      '08:00:04  geofence enter     veh-8          \\x1b[2Jyard                             7.42000,43.74000',
    ],
    // a device id with a newline in it prints one alert, not a second one it forged
    [
      { kind: 'speeding', deviceId: 'v\n08:00:05  geofence enter     forged', time: '2026-01-01T08:00:04Z' },
      '08:00:04  speeding           v\\n08:00:05  geofence enter     forged',
    ],
  ])('%j', (event, line) => {
    expect(formatAlert(event, true)).toBe(line);
  });

  it("writes the machine's local time as toLocaleTimeString('en-GB') does, and dashes for a time that is none", () => {
    for (const time of ['2026-01-01T00:00:04.000Z', '2026-07-01T23:59:59.000Z', '2026-03-29T01:30:00.000Z']) {
      expect(formatAlert({ kind: 'geofence', time }).slice(0, 8)).toBe(new Date(time).toLocaleTimeString('en-GB', { hour12: false }));
    }
    expect(formatAlert({ kind: 'geofence', time: 'yesterday' }).slice(0, 8)).toBe('--:--:--');
  });
});
