import { BUILTIN_KERNELS } from '../kernels/host/builtin-wasm.ts';
import { logger } from '../log/logger.ts';
import { didYouMean } from '../workflows/errors.ts';
import { validateTopic } from 'mqtt';
import { subscribeAlerts } from '../alerts/subscribe-alerts.ts';
import { UsageError, type Parsed } from './args.ts';
import { alertsSpec } from './command-specs.ts';
import { untilSignal } from './until-signal.ts';

/**
 * `--kind`s, each taken as written unless it is a near miss of a built-in kernel's kind (`hotspt`), which
 * would print nothing, for ever, without a word; a kind no built-in comes close to is a kernel of the
 * user's own, and taken.
 */
function readKinds(raw: string[] | undefined): string[] | undefined {
  const kinds = raw?.flatMap((k) => k.split(',').map((s) => s.trim())).filter(Boolean);
  for (const k of kinds ?? []) {
    const near = BUILTIN_KERNELS.includes(k as never) ? '' : didYouMean(k, BUILTIN_KERNELS);
    if (near) throw new UsageError(`--kind "${k}" is no built-in kernel's kind${near}; built in: ${BUILTIN_KERNELS.join(', ')} (a kind of your own kernel is taken as it is)`);
  }
  return kinds;
}

export async function alertsCommand({ values }: Parsed): Promise<void> {
  const kinds = readKinds(values.kind as string[] | undefined);
  const count = values.count === undefined ? undefined : Number(values.count);
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) throw new UsageError(`--count must be a whole number > 0 (got "${values.count}")`);
  if (values.protocol !== '3.1.1' && values.protocol !== '5') throw new UsageError(`--protocol is 3.1.1 or 5 (got "${values.protocol}")`);
  // a filter the broker cannot take would be refused after the connection, and the command wait for ever
  if (!validateTopic(String(values.topic)) || !String(values.topic)) throw new UsageError(`--topic "${values.topic}" is no MQTT topic filter: # only as the last level, + only as a whole level (e.g. geoflux/alerts/+/enter/#)`);
  const log = logger('alerts');
  const url = String(values.mqtt);
  const sub = brokerUrlChecked(url, () =>
    subscribeAlerts({
      url,
      unreachableHint: `Is geoflux serve running, with an mqtt: section in its workflow? Its banner names its broker (watch: geoflux alerts --mqtt ${alertsSpec.flags.mqtt.default} by default)`,
      topic: String(values.topic),
      kinds,
      json: Boolean(values.json),
      count,
      protocolVersion: values.protocol === '5' ? 5 : 4,
      username: values.username as string | undefined,
      password: (values.password as string | undefined) ?? process.env.GEOFLUX_MQTT_PASSWORD,
      log,
    }),
  );
  const stop = untilSignal('alerts', { cutShort: () => 'the close of the broker connection' });
  stop.signal.addEventListener('abort', () => void sub.close());
  const n = await sub.done;
  stop.dispose();
  const repeats = sub.repeats();
  log.info(`${n} alerts${repeats ? ` (${repeats} repeats of an alert's id not printed again)` : ''}`);
}

/** the subscription, or a usage error that names the URL mqtt.js could not read (its own says only "Missing protocol") */
function brokerUrlChecked<T>(url: string, subscribe: () => T): T {
  const refused = (why: string) => new UsageError(`--mqtt "${url}" is no broker URL (${why}): mqtt://host:1883, or mqtts://, ws://, wss://`);
  // mqtt.js takes http:// and others, and then speaks MQTT to whatever answers there
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1].toLowerCase();
  if (scheme && !BROKER_SCHEMES.includes(scheme)) throw refused(`${scheme}:// is not a broker's`);
  try {
    return subscribe();
  } catch (e) {
    throw refused((e as Error).message);
  }
}

const BROKER_SCHEMES = ['mqtt', 'mqtts', 'ws', 'wss', 'tcp', 'ssl', 'tls'];
