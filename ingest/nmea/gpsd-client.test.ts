import { describe, expect, it } from 'vitest';
import type { Source } from '../../source/connect-source.ts';
import { keptLinesLog } from '../../testing/kept-lines-log.ts';
import { FixIntake } from '../fix-intake.ts';
import { readGpsdReport } from './gpsd-client.ts';

/** an intake whose source keeps what is written: what each report is counted as is tested here */
function intake() {
  const written: unknown[] = [];
  const source = { write: (_tag: string, rs: unknown[]) => void written.push(...rs), flush: async () => true } as unknown as Source;
  const log = keptLinesLog();
  return { written, log, intake: new FixIntake(source, { log }, 'nmea') };
}

describe("gpsd's TPV reports", () => {
  it('takes one with a fix and a time as a fix of its device', () => {
    const { written, intake: i } = intake();
    readGpsdReport('{"class":"TPV","device":"/dev/ttyUSB0","mode":3,"time":"2026-12-07T12:00:00.000Z","lat":43.73,"lon":7.42,"speed":1.5,"track":90.0,"eph":4.2}', i, undefined);
    expect(i.stats()).toEqual({ protocol: 'nmea', accepted: 1, rejected: {} });
    expect(written).toEqual([{ deviceId: 'gpsd:/dev/ttyUSB0', t: Date.UTC(2026, 11, 7, 12), lon: 7.42, lat: 43.73, speed: 1.5, heading: 90, accuracy: 4.2 }]);
  });

  // before the receiver has a fix; and what gpsd 3.22 sends, fed GGA alone by gpsfake: a fix, but no date
  it('counts one without a time as no_fix, not as a time error', () => {
    const { written, log, intake: i } = intake();
    readGpsdReport('{"class":"TPV","device":"/dev/pts/3","mode":1}', i, undefined);
    readGpsdReport('{"class":"TPV","device":"/dev/pts/3","mode":3,"lat":43.731633333,"lon":7.426700000,"altHAE":97.0000,"altMSL":50.0000,"alt":50.0000,"magvar":2.3,"geoidSep":47.000,"eph":19.000}', i, undefined);
    expect(i.stats()).toEqual({ protocol: 'nmea', accepted: 0, rejected: { no_fix: 2 } });
    expect(written).toEqual([]);
    i.close();
    expect(log.said).toEqual([
      'warn nmea: refused (no_fix): gpsd:/dev/pts/3: a TPV report without a fix (mode 1)',
      expect.stringMatching(/^warn … 1 more in the last [\d.]+ s; the last: nmea: refused \(no_fix\): gpsd:\/dev\/pts\/3: a TPV report without a time \(mode 3\): gpsd has no date \(the receiver has sent no RMC or ZDA yet\)$/),
    ]);
  });
});
