import { describe, expect, it } from 'vitest';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import type { FixIntake } from '../fix-intake.ts';
import { NmeaStream } from './nmea-stream.ts';

/** an intake that keeps what it is given: the stream's dating is what is tested here */
const keeping = () => {
  const fixes: GpsRecord[] = [];
  return { fixes, intake: { take: (f: GpsRecord) => void fixes.push(f), refuse: () => undefined } as unknown as FixIntake };
};

/** a GGA at hh:mm:ss (a valid fix, quality 1), checksummed */
function gga(hhmmss: string): string {
  const body = `GPGGA,${hhmmss}.000,4343.8980,N,00725.6020,E,1,08,1.0,50.0,M,47.0,M,,`;
  let sum = 0;
  for (const c of body) sum ^= c.charCodeAt(0);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}`;
}

const at = (iso: string) => () => Date.parse(iso);

describe('a GGA, which has no date', () => {
  it('is dated the clock\'s day, or the day before when that day would put it ahead of the clock (just after midnight)', () => {
    const date = (clock: string, time: string) => {
      const { fixes, intake } = keeping();
      const s = new NmeaStream('boat', intake, at(clock));
      s.line(gga(time));
      s.end();
      return new Date(fixes[0].t).toISOString();
    };
    // 12 minutes after midnight: a fix of 03:07 is yesterday's, not three hours ahead
    expect(date('2026-12-07T00:12:00Z', '030719')).toBe('2026-12-06T03:07:19.000Z');
    expect(date('2026-12-07T00:12:00Z', '235959')).toBe('2026-12-06T23:59:59.000Z');
    expect(date('2026-12-07T00:12:00Z', '001100')).toBe('2026-12-07T00:11:00.000Z');
    // a receiver's clock a little ahead of ours is its own day
    expect(date('2026-12-07T00:12:00Z', '001500')).toBe('2026-12-07T00:15:00.000Z');
    expect(date('2026-12-07T15:00:00Z', '030719')).toBe('2026-12-07T03:07:19.000Z');
  });
});
