import mqtt from 'mqtt';
import type { Source } from '../../source/connect-source.ts';
import type { SourceContext } from '../../source/source-module.ts';
import { RateLimitedLog } from '../../log/rate-limited-log.ts';
import { aborted, FixIntake } from '../fix-intake.ts';
import { basicAuth, listenHttp, sameSecret, type DeviceRequest, type HttpAnswer } from '../http-intake.ts';
import { deviceOfTopic, decodeOwntracks } from './owntracks-decode.ts';

/**
 * `run: builtin:owntracks`: the OwnTracks app (owntracks-decode.ts), over MQTT and over HTTP, either or both.
 * MQTT (`mqtt: true`, the default): subscribes to `topic` (default owntracks/+/+) on the workflow's broker
 * (embedded, or `mqtt.url`), or on the broker `mqtt: mqtt://…` names, logging in as `username`/`password`;
 * phones log in to that broker, which is where MQTT's auth is (an external mosquitto with a password file
 * and ACLs that keep each user to owntracks/<user>/#; the embedded broker takes anyone who reaches it).
 * HTTP (`port`): the app's HTTP mode POSTs the same JSON, naming the device in X-Limit-U/X-Limit-D headers
 * or its `topic`; answered `[]` (no friends' locations to send back), 400 with the reason, 401 when `users`
 * (user → password, HTTP basic auth) is set and the login is wrong or names another user's device.
 */

/** what the app sends in HTTP mode to name the device, which a request without it is told */
const NO_DEVICE_HTTP = 'no device: send the headers X-Limit-U (the user) and X-Limit-D (the device), as the app does in HTTP mode, or a "topic": "owntracks/<user>/<device>" in the message';

export function owntracksHttp(intake: FixIntake, users: Map<string, string> | undefined): (req: DeviceRequest) => HttpAnswer {
  return (req) => {
    if (req.method !== 'POST') return { status: 405, body: 'POST an OwnTracks JSON message\n' };
    const u = req.headers['x-limit-u'];
    const d = req.headers['x-limit-d'];
    const login = basicAuth(req.headers);
    const headerDevice = typeof u === 'string' && u ? `${u}/${typeof d === 'string' && d ? d : 'phone'}` : undefined;
    const decoded = decodeOwntracks(req.body, headerDevice, NO_DEVICE_HTTP);
    if ('other' in decoded) return { status: 200, json: [] };
    if ('error' in decoded) {
      intake.refuse('malformed', decoded.error);
      return { status: 400, body: `${decoded.error}\n` };
    }
    if (users) {
      const pass = login && users.get(login.user);
      const user = decoded.fix.deviceId.split('/')[0];
      if (!login || pass === undefined || !sameSecret(login.password, pass) || user !== login.user) {
        intake.refuse('auth', `${login ? `user "${login.user}"` : 'no login'} for device "${decoded.fix.deviceId}"`);
        return { status: 401, body: 'not allowed\n' };
      }
    }
    const bad = intake.take(decoded.fix);
    return bad ? { status: 400, body: `${bad.message}\n` } : { status: 200, json: [] };
  };
}

/** serve starts once the listeners are bound (source-module.ts) */
export const listens = true;

export default async function owntracks(source: Source, ctx: SourceContext): Promise<void> {
  const p = ctx.params as { mqtt?: boolean | string; topic?: string; username?: string; password?: string; host?: string; port?: number; users?: Record<string, string>; tag?: string };
  const intake = new FixIntake(source, ctx, 'owntracks', p.tag);
  // MQTT unless it is off, or only HTTP is asked for (a port and no mqtt)
  const wantsBroker = typeof p.mqtt === 'string' || p.mqtt === true || (p.mqtt === undefined && p.port === undefined);
  const broker = typeof p.mqtt === 'string' ? { url: p.mqtt, username: p.username, password: p.password } : wantsBroker ? ctx.mqtt : undefined;
  if (wantsBroker && !broker) throw new Error("reads OwnTracks from the workflow's MQTT broker, and this workflow has none: add mqtt: { embedded: { port: 1883 } }, give params.mqtt a broker URL, or params.port for HTTP");
  const warn = new RateLimitedLog(ctx.log);
  let client: mqtt.MqttClient | undefined;
  if (broker) {
    const topic = p.topic ?? 'owntracks/+/+';
    client = mqtt.connect(broker.url, { username: broker.username, password: broker.password, reconnectPeriod: 1000, clientId: `geoflux-owntracks-${ctx.name}-${process.pid}` });
    client.on('connect', () => client!.subscribe(topic, { qos: 1 }, (e) => (e ? ctx.log.error(`cannot subscribe to ${topic}: ${e.message}`) : ctx.log.info(`reading OwnTracks from ${topic} on ${broker.url}`))));
    client.on('error', (e) => warn.warn('broker', `broker ${broker.url}: ${e.message}; trying again every second`));
    client.on('message', (t, payload) => {
      const d = decodeOwntracks(payload.toString('utf8'), deviceOfTopic(t));
      if ('error' in d) intake.refuse('malformed', `${t}: ${d.error}`);
      else if ('fix' in d) intake.take(d.fix);
    });
  }
  const http = p.port === undefined ? undefined : await listenHttp({ host: p.host ?? '127.0.0.1', port: p.port }, owntracksHttp(intake, p.users && new Map(Object.entries(p.users).map(([u, pw]) => [u, String(pw)]))), ctx.signal, ctx.log, (why) => intake.refuse('malformed', why));
  ctx.listening?.();
  await aborted(ctx.signal);
  await Promise.all([client?.endAsync(), http?.closed]);
  warn.flush();
  intake.close();
}
