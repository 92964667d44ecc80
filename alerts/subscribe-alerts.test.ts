import { Aedes } from 'aedes';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { startEmbeddedBroker } from './embedded-broker.ts';
import { subscribeAlerts } from './subscribe-alerts.ts';

// every control character, and the invisible ones that steer text, as codecs/control-characters.ts has them
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

it('geoflux alerts prints no field\'s control characters raw, as readable lines and as JSON lines that parse back to the alert', async () => {
  const broker = await startEmbeddedBroker({ port: 0, wsPort: false });
  const alert = { kind: 'speeding', deviceId: 'veh-1', time: '2026-01-01T08:00:02Z', note: '\u001b[2J', csi: '\u009b2J', rtl: '\u202eevil' };
  try {
    // retained, so that the subscriber gets it whenever it subscribes
    const pub = await mqtt.connectAsync(broker.url);
    await pub.publishAsync('geoflux/alerts/speeding', JSON.stringify(alert), { qos: 1, retain: true });
    await pub.endAsync();
    for (const json of [false, true]) {
      const lines: string[] = [];
      const sub = subscribeAlerts({ url: broker.url, json, count: 1, log: keptLinesLog(), print: (l) => lines.push(l) });
      expect(await sub.done).toBe(1);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toMatch(RAW);
      if (json) expect(JSON.parse(lines[0])).toEqual(alert);
      else expect(lines[0]).toContain('note=\\x1b[2J csi=\\x9b2J rtl=\\u202eevil');
    }
  } finally {
    await broker.close();
  }
});

it('ends with the reason when the broker refuses the subscription, rather than printing nothing for ever', async () => {
  // a broker whose rules refuse every subscription: aedes answers SUBACK 0x80 to a filter its hook takes away
  const broker = await Aedes.createBroker({ authorizeSubscribe: (_client, _sub, done) => done(null, null) });
  const server = createServer(broker.handle as (s: Socket) => void);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const sub = subscribeAlerts({ url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, log: keptLinesLog() });
    await expect(sub.done).rejects.toThrow('cannot subscribe to geoflux/alerts/#: Subscribe error');
  } finally {
    server.close();
    await new Promise<void>((r) => broker.close(() => r()));
  }
});
