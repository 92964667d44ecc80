import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../../log/logger.ts';
import { freePort, freeUdpPort } from '../../testing/free-port.ts';
import { startGpsfake } from '../../testing/gpsfake-process.ts';
import { ingestTests } from '../../testing/ingest-tests.ts';
import { requireTool, GPSFAKE } from '../../testing/system-tool.ts';
import { tcpDevice } from '../../testing/tcp-device.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { KNOT } from '../../codecs/fix-checks.ts';
import { nmeaChecksum, parseSentence } from './nmea-sentence.ts';

setLogLevel('silent');

/** gpsd's own recorded log of a GlobalSat BU-353-S4 in Hamilton, NZ (see its first line for where it is from) */
const LOG = new URL('./testdata/bu353s4.nmea', import.meta.url).pathname;
const SENTENCES = readFileSync(LOG, 'utf8').split('\n').filter((l) => l.startsWith('$'));
const RMCS = SENTENCES.filter((l) => l.startsWith('$GPRMC'));

const t = ingestTests();

/** a sentence with its checksum made for it */
const sentence = (body: string) => `$${body}*${nmeaChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * The log with its RMCs dated yesterday by this machine's clock, checksums made anew, in a temp folder: gpsd
 * reads the log's 2014 dates as a GPS week rollover and reports 2034, which a device listener refuses as
 * ahead of its clock (ingest/device-rules.ts). Yesterday, so that the log's times of day are all past.
 */
function loggedYesterday(): { path: string; day: string } {
  const d = new Date(Date.now() - 86_400_000);
  const ddmmyy = [d.getUTCDate(), d.getUTCMonth() + 1, d.getUTCFullYear() % 100].map((n) => String(n).padStart(2, '0')).join('');
  const text = readFileSync(LOG, 'utf8')
    .split('\n')
    .map((l) => {
      if (!l.startsWith('$GPRMC')) return l;
      const f = l.slice(1, l.indexOf('*')).split(',');
      f[9] = ddmmyy;
      return sentence(f.join(',')) + (l.endsWith('\r') ? '\r' : '');
    })
    .join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-gpsfake-'));
  t.later(async () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bu353s4.nmea'), text);
  return { path: join(dir, 'bu353s4.nmea'), day: d.toISOString().slice(0, 10) };
}

describe('NMEA 0183 sentences', () => {
  it('reads RMC and GGA, and refuses a wrong checksum', () => {
    expect(parseSentence('$GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A*7D')).toEqual({
      sentence: { kind: 'RMC', time: (3 * 3600 + 7 * 60 + 19) * 1000, date: Date.UTC(2014, 11, 31), valid: true, lat: -(37 + 47.0873 / 60), lon: 175 + 18.8938 / 60, speed: 0.69 * KNOT, course: 181.39 },
    });
    expect(parseSentence('$GPGGA,030719.000,3747.0873,S,17518.8938,E,1,08,1.1,59.9,M,23.7,M,,0000*7D')).toMatchObject({ sentence: { kind: 'GGA', quality: 1, satellites: 8, hdop: 1.1 } });
    expect(parseSentence('$GPRMC,030719.000,A,3747.0873,S,17518.8938,E,0.69,181.39,311214,,,A*7C')).toMatchObject({ error: expect.stringMatching(/checksum 7C/) });
    expect(parseSentence('$GPGSA,A,3,17,28,06,01,30,20,26,13,,,,,1.8,1.1,1.5*33')).toEqual({ other: 'GPGSA' });
  });

  it('refuses a time, date or minute of arc no receiver means, rather than rolling it over', () => {
    // each sentence with its checksum made for it: only the field under test is wrong
    const rmc = (time: string, lat: string, date: string) => parseSentence(sentence(`GPRMC,${time},A,${lat},S,17518.8938,E,0.69,181.39,${date},,,A`));
    expect(rmc('030719.000', '3747.0873', '311214')).toMatchObject({ sentence: { kind: 'RMC', date: Date.UTC(2014, 11, 31) } });
    expect(rmc('246199.00', '3747.0873', '311214')).toMatchObject({ error: expect.stringMatching(/^an RMC without time or position/) });
    expect(rmc('030719.000', '3767.0873', '311214')).toMatchObject({ error: expect.stringMatching(/^an RMC without time or position/) });
    expect(rmc('030719.000', '3747.0873', '311326')).toMatchObject({ error: expect.stringMatching(/^an RMC dated 311326, a day no calendar has/) });
    expect(rmc('030719.000', '3747.0873', '300224')).toMatchObject({ error: expect.stringMatching(/^an RMC dated 300224/) });
    expect(rmc('235960.5', '3747.0873', '311216')).toMatchObject({ sentence: { kind: 'RMC' } });
  });
});

describe('builtin:nmea', () => {
  it('reads a real gpsd fed a recorded log by gpsfake', async (ctx) => {
    requireTool(ctx, GPSFAKE);
    const log = loggedYesterday();
    const gpsfake = await startGpsfake(log.path);
    t.later(() => gpsfake.kill('SIGTERM'));
    const running = await t.serve('nmea', { gpsd: `127.0.0.1:${gpsfake.port}`, deviceId: 'bu353' });
    const fixes = await running.waitFixes(5);
    for (const f of fixes) {
      expect(f.deviceId).toBe('bu353');
      // Hamilton, Waikato, within metres of the log's first fix
      expect(f.lat).toBeCloseTo(-37.7848, 3);
      expect(f.lon).toBeCloseTo(175.3149, 3);
      // gpsd reports m/s (the log's RMCs say at most 1.15 knots) and eph as the accuracy
      expect(f.speed).toBeLessThan(1.15 * KNOT + 0.01);
    }
    expect(fixes.some((f) => f.accuracy !== undefined && f.accuracy > 0)).toBe(true);
    // dated as the copy says, not 1024 weeks on
    expect(new Set(fixes.map((f) => new Date(f.t).toISOString().slice(0, 10)))).toEqual(new Set([log.day]));
    expect(await waitFor(() => running.metric('geoflux_ingest_fixes_total', { source: 'devices' }), { until: (n) => n >= 5, what: 'fixes counted' })).toBeGreaterThanOrEqual(5);
  });

  it('takes raw sentences over TCP: one fix per valid RMC, bad checksums and void fixes counted', async () => {
    const port = await freePort();
    const running = await t.serve('nmea', { tcp: port });
    const receiver = await tcpDevice(port);
    // in pieces that cut sentences in half, as TCP may deliver them
    const text = [...SENTENCES, '$GPRMC,030744.000,V,,,,,,,311214,,,N*4D', '$GPRMC,030745.000,A,3747.0877,S,17518.8941,E,0.00,181.39,311214,,,A*00'].join('\r\n') + '\r\n';
    for (let i = 0; i < text.length; i += 100) receiver.send(text.slice(i, i + 100));
    const fixes = await running.waitFixes(RMCS.length);
    expect(fixes.map((f) => new Date(f.t).toISOString().slice(11, 19))).toEqual(RMCS.map((l) => `${l.slice(7, 9)}:${l.slice(9, 11)}:${l.slice(11, 13)}`));
    expect(fixes[0]).toMatchObject({ deviceId: 'nmea:127.0.0.1', t: Date.parse('2014-12-31T03:07:19Z'), lat: expect.closeTo(-(37 + 47.0873 / 60), 6), lon: expect.closeTo(175 + 18.8938 / 60, 6), heading: expect.closeTo(181.39, 3) });
    expect(fixes[0].speed).toBeCloseTo(0.69 * KNOT, 4);
    expect(fixes.at(-1)!.t).toBe(Date.parse('2014-12-31T03:07:43Z'));
    await waitFor(() => running.metric('geoflux_ingest_rejected_total', { reason: 'malformed' }), { until: (n) => n === 1, what: 'the bad checksum counted' });
    expect(await running.metric('geoflux_ingest_rejected_total', { reason: 'no_fix' })).toBe(1);
  });

  it('takes GGA-only datagrams over UDP, dated by the clock', async () => {
    const port = await freeUdpPort();
    const running = await t.serve('nmea', { udp: port, deviceId: 'boat' });
    const udp = createSocket('udp4');
    t.later(() => new Promise<void>((r) => udp.close(() => r())));
    // a GGA becomes a fix when the next one shows no RMC came with it: 4 sentences, 3 fixes
    const gga = SENTENCES.filter((l) => l.startsWith('$GPGGA')).slice(0, 4);
    for (const g of gga) udp.send(g, port, '127.0.0.1');
    const fixes = await running.waitFixes(3);
    expect(fixes.map((f) => f.t % 86_400_000)).toEqual([19, 20, 21].map((s) => (3 * 3600 + 7 * 60 + s) * 1000));
    expect(fixes.every((f) => f.deviceId === 'boat' && Math.abs(f.t - Date.now()) < 86_400_000)).toBe(true);
  });
});
