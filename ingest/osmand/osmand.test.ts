import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../../log/logger.ts';
import { freePort } from '../../testing/free-port.ts';
import { ingestTests } from '../../testing/ingest-tests.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { parseWorkflow } from '../../workflows/load.ts';
import { KNOT } from '../../codecs/fix-checks.ts';

setLogLevel('silent');

const t = ingestTests();

async function start(params: Record<string, unknown> = {}) {
  const port = await freePort();
  return { serve: await t.serve('osmand', { port, ...params }), url: `http://127.0.0.1:${port}` };
}

describe('builtin:osmand (Traccar Client / OsmAnd over HTTP)', () => {
  it("turns Traccar's own decoder test requests into fixes: query, form POST and Traccar Client's JSON", async () => {
    const { serve, url } = await start();
    // requests from traccar/traccar src/test/java/org/traccar/protocol/OsmAndProtocolDecoderTest.java
    const get = await fetch(`${url}/?id=123456789012345&timestamp=1504763810&lat=40.7232948571&lon=-74.0061408571&bearing=7.19889788244&speed=40&ignition=true&rpm=933&fuel=24`);
    expect(get.status).toBe(200);
    expect((await fetch(`${url}/?id=902064&lat=42.06288&lon=-88.23412&timestamp=2016-01-27T18%3A55%3A47Z&hdop=6.0&altitude=224.0&speed=0.0`)).status).toBe(200);
    expect((await fetch(`${url}/?lat=49.60688&lon=6.15788&timestamp=2014-06-04+09%3A10%3A11&altitude=384.7&speed=0.0&id=353861053849681`)).status).toBe(200);
    expect((await fetch(`${url}/?id=123456&timestamp=1377177267&location=60.0,30.0`)).status).toBe(200);
    const form = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=902064&lat=42.06288&lon=-88.23412&timestamp=1442068686579&accuracy=12.5' });
    expect(form.status).toBe(200);
    const json = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"location":{"event":"motionchange","is_moving":false,"uuid":"0e9a2473-a9a7-4c00-997b-fb97d2154e75","timestamp":"2021-07-21T08:06:34.444Z","odometer":0,"coords":{"latitude":-6.1148096,"longitude":106.6837015,"accuracy":3.8,"speed":18.67,"speed_accuracy":0.26,"heading":63,"heading_accuracy":0.28,"altitude":35.7,"altitude_accuracy":3.8},"activity":{"type":"still","confidence":100},"battery":{"is_charging":false,"level":0.79},"extras":{}},"device_id":"8737767034"}',
    });
    expect(json.status).toBe(200);
    const fixes = await serve.waitFixes(6);
    const by = (id: string, t: number) => fixes.find((f) => f.deviceId === id && f.t === t);
    expect(by('123456789012345', 1504763810_000)).toMatchObject({ lon: -74.0061408571, lat: 40.7232948571, heading: expect.closeTo(7.19889788244, 4) });
    // speed, heading and accuracy travel as float32
    // Traccar Client sends knots
    expect(by('123456789012345', 1504763810_000)!.speed).toBeCloseTo(40 * KNOT, 4);
    expect(by('902064', Date.parse('2016-01-27T18:55:47Z'))).toMatchObject({ lat: 42.06288, speed: 0 });
    expect(by('353861053849681', Date.parse('2014-06-04T09:10:11Z'))).toMatchObject({ lon: 6.15788 });
    expect(by('123456', 1377177267_000)).toMatchObject({ lat: 60, lon: 30 });
    expect(by('902064', 1442068686579)).toMatchObject({ accuracy: 12.5 });
    // the JSON body's speed is the phone's own m/s
    expect(by('8737767034', Date.parse('2021-07-21T08:06:34.444Z'))).toMatchObject({ lon: 106.6837015, lat: -6.1148096, speed: expect.closeTo(18.67, 4), heading: 63, accuracy: expect.closeTo(3.8, 4) });
    expect(await waitFor(() => serve.metric('geoflux_ingest_fixes_total', { source: 'devices' }), { until: (n) => n === 6, what: 'the 6 fixes counted in /metrics' })).toBe(6);
  });

  it('answers 400 with the reason to a fix the SDK would refuse, and counts each by reason', async () => {
    const { serve, url } = await start();
    const offGlobe = await fetch(`${url}/?id=a&lat=91&lon=7&timestamp=1700000000`);
    expect(offGlobe.status).toBe(400);
    expect(await offGlobe.text()).toMatch(/lat must be a number in \[-90, 90\]/);
    const noId = await fetch(`${url}/?lat=60.0&lon=30.0&timestamp=1377177267`);
    expect(noId.status).toBe(400);
    expect(await noId.text()).toMatch(/no device id/);
    const badTime = await fetch(`${url}/?id=a&lat=60&lon=30&timestamp=yesterday`);
    expect(badTime.status).toBe(400);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"device_id":' })).status).toBe(400);
    // a body past 64 KB is not read: refused, whether the client sees the 413 or the connection cut
    await fetch(url, { method: 'POST', body: 'x'.repeat(100_000) }).then((r) => expect(r.status).toBe(413), () => {});
    expect((await fetch(`${url}/?id=a&lat=60&lon=30&timestamp=1377177267`)).status).toBe(200);
    await serve.waitFixes(1);
    await waitFor(() => serve.metric('geoflux_ingest_rejected_total', { source: 'devices' }), { until: (n) => n === 5, what: '5 refusals in /metrics' });
    expect(await serve.metric('geoflux_ingest_rejected_total', { reason: 'position' })).toBe(1);
    expect(await serve.metric('geoflux_ingest_rejected_total', { reason: 'malformed' })).toBe(4);
    expect(serve.fixes.map((f) => f.deviceId)).toEqual(['a']);
  });

  it('refuses a device clock out of the time window, not set or ahead of the receiver\'s, a speed no GPS receiver reports, and a negative measure; -1 is unknown', async () => {
    const { serve, url } = await start();
    const refused = async (q: string, why: RegExp) => {
      const r = await fetch(`${url}/?lat=60&lon=30&${q}`);
      expect(r.status).toBe(400);
      expect(await r.text()).toMatch(why);
    };
    // eleven digits are seconds: the year 5138, not 1973 read as ms
    await refused('id=a&timestamp=99999999999', /t must be epoch ms from 1970-01-01 to 2100-01-01 \(got 99999999999000\)/);
    await refused('id=a&timestamp=1', /t is 1970-01-01T00:00:01.000Z, not after 1980-01-06 \(the GPS epoch\): the device's clock is not set/);
    // a day ahead of this machine's clock: it would stand as the device's latest over every true fix
    await refused(`id=a&timestamp=${Math.round(Date.now() / 1000) + 86_400}`, /ahead of this receiver's clock \(at most 5 min\)/);
    await refused('id=a&timestamp=-100', /timestamp "-100" is not unix seconds, ms or ISO 8601/);
    await refused('id=a&timestamp=1700000000&speed=2000', /speed must be at most 514.4 m\/s, 1,000 knots/);
    await refused('id=a&timestamp=1700000000&speed=fast', /speed "fast" is not a number/);
    await refused('id=a&timestamp=1700000000&speed=-5', /speed is negative \(-2.57 m\/s as read;/);
    await refused('id=a&timestamp=1700000000&accuracy=-3', /accuracy is negative \(-3 m as read;/);
    await refused('id=a&id=b&timestamp=1700000000', /ambiguous: id="a", id="b"; send one/);
    await refused('id=a%00b&timestamp=1700000000', /deviceId "a\\u0000b" has a control character \(U\+0000\)/);
    expect((await fetch(`${url}/?id=b&lat=60&lon=30&timestamp=1700000000&speed=-1&accuracy=-1&bearing=-1`)).status).toBe(200);
    const [fix] = await serve.waitFixes(1);
    expect(fix).toEqual({ deviceId: 'b', t: 1700000000_000, lon: 30, lat: 60 });
    await waitFor(() => serve.metric('geoflux_ingest_rejected_total', { source: 'devices' }), { until: (n) => n === 10, what: '10 refusals in /metrics' });
    expect(await serve.metric('geoflux_ingest_rejected_total', { reason: 'time' })).toBe(3);
    expect(await serve.metric('geoflux_ingest_rejected_total', { reason: 'motion' })).toBe(3);
    expect(await serve.metric('geoflux_ingest_rejected_total', { reason: 'device' })).toBe(1);
    expect(await serve.metric('geoflux_ingest_rejected_total', { reason: 'malformed' })).toBe(3);
  });

  it('lets in only the devices and keys it is given, and a token when it has one', async () => {
    const { serve, url } = await start({ keys: { truck7: 's3cret' }, token: 'fleet-token' });
    const q = 'lat=43.73&lon=7.42&timestamp=1700000000';
    expect((await fetch(`${url}/?id=truck7&key=s3cret&${q}`)).status).toBe(401);
    expect((await fetch(`${url}/?id=truck7&key=wrong&token=fleet-token&${q}`)).status).toBe(401);
    expect((await fetch(`${url}/?id=truck8&key=s3cret&token=fleet-token&${q}`)).status).toBe(401);
    expect((await fetch(`${url}/?id=truck7&key=s3cret&${q}`, { headers: { authorization: 'Bearer fleet-token' } })).status).toBe(200);
    await serve.waitFixes(1);
    await waitFor(() => serve.metric('geoflux_ingest_rejected_total', { reason: 'auth' }), { until: (n) => n === 3, what: '3 auth refusals' });
  });

  it('stops serve at its line when its port is taken', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    t.later(() => new Promise((r) => taken.close(r)));
    const port = (taken.address() as AddressInfo).port;
    await expect(t.serve('osmand', { port })).rejects.toThrow(new RegExp(`workflow\\.yaml:\\d+:\\d+ sources\\[0\\]\\.run: source "devices" could not start: listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}`));
  });

  it('checks its params when the workflow loads, with file:line', () => {
    const load = (params: string) => () => parseWorkflow(`name: t\nlisten: [quic://127.0.0.1:0]\ntags: { gps: 16 }\nsources:\n  - { name: phones, run: builtin:osmand, params: ${params} }\n`, 'w.yaml', {});
    expect(load('{ prot: 5055 }')).toThrow(/:\d+:\d+ sources\[0\]\.params\.prot: unknown param \(did you mean "port"\?\)/);
    expect(load('{ port: 70000 }')).toThrow(/sources\[0\]\.params\.port: a TCP\/UDP port/);
  });
});
