import { logger } from '../log/logger.ts';
import { subscribeAlerts } from '../alerts/subscribe-alerts.ts';
import { UsageError, type CommandSpec, type Parsed } from './args.ts';
import { untilSignal } from './until-signal.ts';

export const alertsSpec: CommandSpec = {
  name: 'alerts',
  usage: 'geoflux alerts [options]',
  summary: 'Subscribes to the alerts a workflow publishes over MQTT and prints them as readable lines (or JSON) as they arrive.',
  flags: {
    mqtt: { type: 'string', value: 'url', help: 'the broker', default: 'mqtt://127.0.0.1:1883' },
    topic: { type: 'string', value: 'filter', help: 'topic filter', default: 'geoflux/alerts/#' },
    kind: { type: 'string', multiple: true, value: 'kind', help: 'only these kinds: geofence, hotspot, mapmatch, ... (repeatable, or a comma list)' },
    json: { type: 'boolean', help: 'print each alert as its JSON' },
    count: { type: 'string', value: 'n', help: 'exit after n alerts' },
    protocol: { type: 'string', value: '3.1.1|5', help: 'MQTT version', default: '3.1.1' },
    username: { type: 'string', value: 'name', help: 'broker user' },
    password: { type: 'string', value: 'secret', help: 'broker password (default: $GEOFLUX_MQTT_PASSWORD)' },
  },
  notes: [
    'Lines: time, kind and detect, device (or hotspot cell), what (fence, z score, road and speed), lon,lat.',
    'Examples:',
    '  geoflux alerts                                   # everything the default workflow publishes',
    "  geoflux alerts --kind geofence --topic 'geoflux/alerts/geofence/enter/#'",
    '  geoflux alerts --json --count 10 | jq .',
  ],
};

export async function alertsCommand({ values }: Parsed): Promise<void> {
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) throw new UsageError(`--count must be a whole number > 0 (got "${values.count}")`);
  if (values.protocol !== '3.1.1' && values.protocol !== '5') throw new UsageError(`--protocol is 3.1.1 or 5 (got "${values.protocol}")`);
  const log = logger('alerts');
  const sub = subscribeAlerts({
    url: String(values.mqtt),
    topic: String(values.topic),
    kinds: (values.kind as string[] | undefined)?.flatMap((k) => k.split(',').map((s) => s.trim())).filter(Boolean),
    json: Boolean(values.json),
    count,
    protocolVersion: values.protocol === '5' ? 5 : 4,
    username: values.username as string | undefined,
    password: (values.password as string | undefined) ?? process.env.GEOFLUX_MQTT_PASSWORD,
    log,
  });
  const stop = untilSignal();
  stop.signal.addEventListener('abort', () => void sub.close());
  const n = await sub.done;
  stop.dispose();
  log.info(`${n} alerts`);
}
