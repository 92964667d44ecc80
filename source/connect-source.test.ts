import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidFixError } from '../codecs/fix-checks.ts';
import { connectStreamFunction } from '../sfn/connect-stream-function.ts';
import { later, testConfig, TOKEN } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from '../zipper/zipper.ts';
import { connectSource } from './connect-source.ts';

describe('the source SDK', () => {
  it('refuses an unusable fix at write(), at once and with the reason, and goes on with the next ones', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'count', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const got: string[] = [];
    const sfn = later(await connectStreamFunction({ name: 'count', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handle((in$) => in$.pipe(tap((r: { deviceId: string }) => got.push(r.deviceId))));
    const source = await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN });
    const t = Date.now();
    // a device id past what a batch can carry used to pass write() and crash the process from a timer
    expect(() => source.write('gps', { deviceId: 'x'.repeat(70_000), t, lon: 7.4, lat: 43.7 })).toThrow(new InvalidFixError('write("gps"): fix of "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…": deviceId is longer than 256 bytes'));
    expect(() => source.write('gps', [{ deviceId: 'a', t, lon: 7.4, lat: 43.7 }, { deviceId: 'b', t: NaN, lon: 7.4, lat: 43.7 }])).toThrow(/record 1 fix of "b": t must be epoch ms from 1970-01-01 to 2100-01-01/);
    // finite, but the year 287,000: it used to cost the geofence kernel its whole batch (`Invalid time value`)
    expect(() => source.write('gps', { deviceId: 'd', t: 9e15, lon: 7.4, lat: 43.7 })).toThrow(new InvalidFixError('write("gps"): fix of "d": t must be epoch ms from 1970-01-01 to 2100-01-01 (got 9000000000000000)'));
    // it used to reach serve's printer, `geoflux alerts` and the zipper's log raw, and colour the terminal red
    expect(() => source.write('gps', [{ deviceId: 'e\u001b[41mSCREAM\u001b[0m\u0007\r-002', t, lon: 7.4, lat: 43.7 }])).toThrow(/fix of "e\\u001b\[41mSCREAM.*has a control character \(U\+001B\)/);
    expect(source.stats().spooled).toBe(0);
    source.write('gps', [{ deviceId: 'c', t, lon: 7.4, lat: 43.7 }]);
    await source.flush();
    await waitFor(() => got.length === 1, { what: () => 'the good fix' });
    expect(got).toEqual(['c']);
    const report = await source.close();
    expect(report).toMatchObject({ unacked: 0, dropped: 0 });
  });

  it('reads what phones send as GPS stacks mean it (speed -1, heading 720, lng) and refuses a null record by its index', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'keep', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const got: unknown[] = [];
    const sfn = later(await connectStreamFunction({ name: 'keep', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN }));
    sfn.handle((in$) => in$.pipe(tap((r) => got.push(r))));
    const source = await connectSource({ name: 'phone', zipper: z.memoryUrl, token: TOKEN });
    const t = Date.now();
    expect(() => source.write('gps', [{ deviceId: 'p', t, lon: 7.4, lat: 43.7 }, null])).toThrow(new TypeError('write("gps"): record 1 is null, not a record'));
    source.write('gps', { deviceId: 'p', t, lng: 7.4, lat: 43.7, speed: -1, heading: 720, accuracy: 8 });
    await source.flush();
    await waitFor(() => got.length === 1, { what: () => 'the fix' });
    expect(got).toEqual([{ deviceId: 'p', t, lon: 7.4, lat: 43.7, heading: 0, accuracy: 8 }]);
    await source.close();
  });
});
