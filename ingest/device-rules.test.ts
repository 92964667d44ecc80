import { describe, expect, it } from 'vitest';
import type { GpsRecord } from '../codecs/gps-record.ts';
import type { Source } from '../source/connect-source.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { deviceRuleProblem, MAX_AHEAD_MS } from './device-rules.ts';
import { FixIntake } from './fix-intake.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const fix = (o: Partial<GpsRecord> = {}): GpsRecord => ({ deviceId: 'phone', t: NOW, lon: 7.42, lat: 43.73, ...o });

describe('what a device fix is held to beyond write()', () => {
  it("refuses a time more than 5 minutes ahead of the receiver's clock, saying how far", () => {
    expect(deviceRuleProblem(fix({ t: NOW + MAX_AHEAD_MS }), NOW)).toBeUndefined();
    expect(deviceRuleProblem(fix({ t: NOW + MAX_AHEAD_MS + 1 }), NOW)).toMatchObject({ reason: 'time', message: expect.stringMatching(/5 min ahead of this receiver's clock \(at most 5 min\)/) });
    // gpsd's 2014 log as gpsd dates it: 1024 weeks on
    expect(deviceRuleProblem(fix({ t: NOW + 1024 * 7 * 86_400_000 }), NOW)?.message).toMatch(/7,168 days ahead .* a GPS week rollover/);
    expect(deviceRuleProblem(fix({ t: NOW + 2 * 3_600_000 }), NOW)?.message).toMatch(/2\.0 h ahead .* a local time sent as UTC/);
    // the past is a device sending what it stored while offline
    expect(deviceRuleProblem(fix({ t: NOW - 30 * 86_400_000 }), NOW)).toBeUndefined();
  });

  it('refuses a negative speed, accuracy or heading: the decoders have read the protocol\'s "unknown" already', () => {
    expect(deviceRuleProblem(fix({ speed: -2.5 }), NOW)).toEqual({ reason: 'motion', message: 'speed is negative (-2.5 m/s as read; a device\'s "unknown" is -1 or no value)' });
    expect(deviceRuleProblem(fix({ accuracy: -3 }), NOW)?.reason).toBe('motion');
    expect(deviceRuleProblem(fix({ heading: -90 }), NOW)?.reason).toBe('motion');
    expect(deviceRuleProblem(fix({ speed: 0, accuracy: 0, heading: 0 }), NOW)).toBeUndefined();
  });

  it("counts what FixIntake refuses by the receiver's clock, and writes what it takes", () => {
    const written: unknown[] = [];
    const source = { write: (_tag: string, rs: unknown[]) => void written.push(...rs), flush: async () => true } as unknown as Source;
    const log = keptLinesLog();
    let now = NOW;
    const intake = new FixIntake(source, { log }, 'osmand', 'gps', () => now);
    expect(intake.take(fix({ t: NOW + 10 * 60_000 }))).toMatchObject({ reason: 'time' });
    now += 10 * 60_000;
    expect(intake.take(fix({ t: NOW + 10 * 60_000 }))).toBeUndefined();
    expect(intake.stats()).toEqual({ protocol: 'osmand', accepted: 1, rejected: { time: 1 } });
    expect(written).toHaveLength(1);
    expect(log.said).toEqual([expect.stringMatching(/^warn osmand: refused \(time\): "phone": t is .*10 min ahead/)]);
  });
});
