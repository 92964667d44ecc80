import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../../log/logger.ts';
import { freePort } from '../../testing/free-port.ts';
import { ingestTests } from '../../testing/ingest-tests.ts';
import { startMosquitto } from '../../testing/mosquitto-process.ts';
import { MOSQUITTO, MOSQUITTO_SUB, requireTool } from '../../testing/system-tool.ts';
import { waitFor } from '../../testing/wait-for.ts';
import { KMH } from '../fix-intake.ts';

setLogLevel('silent');

/*
 * Messages from Traccar's decoder tests (traccar/traccar src/test/java/org/traccar/protocol/
 * OwnTracksProtocolDecoderTest.java), as the OwnTracks app sends them.
 */
const PARIS = '{"cog":271,"lon":2.29513,"acc":5,"vel":61,"vac":21,"lat":48.85833,"tst":1497349316,"alt":167,"_type":"location","tid":"JJ","t":"u","batt":67}';
const TRENTO = '{"_type":"location","acc":15,"alt":440,"batt":46,"conn":"w","lat":46.0681247,"lon":11.1512805,"t":"u","tid":"5t","tst":1551874878,"vac":2,"vel":0}';
const WITH_TOPIC = '{"lon":-122,"acc":5,"created_at":1736161415,"lat":37,"topic":"owntracks/ckrey/22A67880-15C3-41A6-9157-25545C7993AC","t":"u","m":1,"tst":1736161169,"conn":"w","alt":0,"_type":"location","tid":"AC"}';

const t = ingestTests();

describe('builtin:owntracks', () => {
  it("reads locations published to the workflow's embedded broker, the device named by the topic", async () => {
    const running = await t.serve('owntracks', {}, 'mqtt:\n  embedded: { port: 0, ws: false }');
    const phone = await mqtt.connectAsync(running.served.mqttUrl!);
    t.later(() => phone.endAsync());
    // retained: the source subscribes when it starts, perhaps after this
    await phone.publishAsync('owntracks/jj/phone', PARIS, { qos: 1, retain: true });
    await phone.publishAsync('owntracks/jj/phone/event', '{"_type":"transition","event":"enter"}', { qos: 1 });
    const [fix] = await running.waitFixes(1);
    expect(fix).toMatchObject({ deviceId: 'jj/phone', t: 1497349316_000, lon: 2.29513, lat: 48.85833, heading: 271, accuracy: 5 });
    expect(fix.speed).toBeCloseTo(61 * KMH, 4);
  });

  it('reads an external mosquitto that mosquitto_pub publishes to', async (ctx) => {
    requireTool(ctx, MOSQUITTO);
    requireTool(ctx, MOSQUITTO_SUB);
    const broker = await startMosquitto();
    t.later(() => broker.stop());
    const running = await t.serve('owntracks', { mqtt: broker.url });
    await promisify(execFile)('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-r', '-t', 'owntracks/anna/pixel', '-m', TRENTO]);
    await promisify(execFile)('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-r', '-t', 'owntracks/anna/tablet', '-m', '{"_type":"location","lat":95,"lon":11,"tst":1551874878}']);
    expect(await running.waitFixes(1)).toMatchObject([{ deviceId: 'anna/pixel', t: 1551874878_000, lat: 46.0681247, speed: 0, accuracy: 15 }]);
    await waitFor(() => running.metric('geoflux_ingest_rejected_total', { reason: 'position' }), { until: (n) => n === 1, what: 'the fix off the globe counted' });
  });

  it('takes the HTTP mode, with basic auth per user', async () => {
    const port = await freePort();
    const running = await t.serve('owntracks', { port, users: { anna: 'pw-a', ckrey: 'pw-c' } });
    const post = (body: string, user: string, pass: string, headers: Record<string, string> = {}) =>
      fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`, ...headers } });
    const ok = await post(TRENTO, 'anna', 'pw-a', { 'x-limit-u': 'anna', 'x-limit-d': 'pixel' });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual([]);
    expect((await post(WITH_TOPIC, 'ckrey', 'pw-c')).status).toBe(200);
    expect((await post(TRENTO, 'anna', 'wrong', { 'x-limit-u': 'anna', 'x-limit-d': 'pixel' })).status).toBe(401);
    // anna may not write as ckrey
    expect((await post(WITH_TOPIC, 'anna', 'pw-a')).status).toBe(401);
    const noTst = await post('{"_type":"location","lat":1,"lon":2}', 'anna', 'pw-a', { 'x-limit-u': 'anna' });
    expect(noTst.status).toBe(400);
    expect(await noTst.text()).toMatch(/without tst/);
    const noDevice = await post(TRENTO, 'anna', 'pw-a');
    expect(noDevice.status).toBe(400);
    expect(await noDevice.text()).toMatch(/^no device: send the headers X-Limit-U \(the user\) and X-Limit-D \(the device\)/);
    const fixes = await running.waitFixes(2);
    expect(fixes.map((f) => f.deviceId).sort()).toEqual(['anna/pixel', 'ckrey/22A67880-15C3-41A6-9157-25545C7993AC']);
    await waitFor(() => running.metric('geoflux_ingest_rejected_total', { reason: 'auth' }), { until: (n) => n === 2, what: '2 auth refusals' });
  });
});
