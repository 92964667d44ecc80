import { logger } from '../log/logger.ts';
import { subscribeAlerts } from '../alerts/subscribe-alerts.ts';
import { UsageError, type Parsed } from './args.ts';
import { untilSignal } from './until-signal.ts';

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
  const repeats = sub.repeats();
  log.info(`${n} alerts${repeats ? ` (${repeats} repeats of an alert's id not printed again)` : ''}`);
}
