import mqtt from 'mqtt';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { printableJson } from '../codecs/control-characters.ts';
import { formatAlert } from './format-alert.ts';
import { RecentIds } from './recent-ids.ts';

export interface SubscribeOptions {
  url: string;
  topic?: string;
  /** only events of these kinds (geofence, hotspot, mapmatch, ...) */
  kinds?: string[];
  json?: boolean;
  /** stop after this many alerts */
  count?: number;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  log: Logger;
  /** said after why, when the broker was never reached (the command line's hint) */
  unreachableHint?: string;
  /** where lines go (default stdout) */
  print?: (line: string) => void;
}

export interface Subscription {
  /** resolves with the number of alerts printed once `count` is reached or `close()` is called; rejects when the broker refuses the subscription */
  done: Promise<number>;
  /** alerts not printed for carrying an `id` printed already (a worker's takeover, a QoS 1 resend) */
  repeats(): number;
  close(): Promise<void>;
}

/** A subscriber that prints alerts as they arrive and keeps retrying while the broker is away. */
export function subscribeAlerts(o: SubscribeOptions): Subscription {
  const topic = o.topic ?? 'geoflux/alerts/#';
  const print = o.print ?? ((l: string) => void process.stdout.write(l + '\n'));
  const client = mqtt.connect(o.url, {
    protocolVersion: o.protocolVersion ?? 4,
    username: o.username,
    password: o.password,
    reconnectPeriod: 1000,
    connectTimeout: 5000,
    clientId: `geoflux-alerts-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
  });
  let printed = 0;
  let repeats = 0;
  const seen = new RecentIds();
  let finish!: (n: number) => void;
  let fail!: (e: Error) => void;
  const done = new Promise<number>((resolve, reject) => ((finish = resolve), (fail = reject)));
  // a broker that refuses every redial, or a topic full of what is not JSON, must not flood the terminal
  const warnings = new RateLimitedLog(o.log);
  let down = false;
  // a broker never reached was not lost: until the first connection, one line says so, with why
  let connected = false;
  let unreachable: string | undefined;
  client.on('connect', () => {
    // the retries counted while it was away are said before it is back, not after as if it went again
    if (down) warnings.flush();
    if (down) o.log.info(`broker ${o.url} is back`);
    down = false;
    connected = true;
    client.subscribe(topic, { qos: 1 }, (err) => {
      if (!err) return o.log.info(`subscribed to ${topic} on ${o.url}`);
      // a refusal (mqtt.js makes a SUBACK's 0x80 an error) is the broker's last word on this filter: waiting
      // on would print nothing, for ever
      void client.endAsync(true).then(() => fail(new Error(`cannot subscribe to ${topic}: ${err.message}`)));
    });
  });
  client.on('error', (e) => {
    if (!connected) unreachable ??= e.message;
    else warnings.warn('error', `broker ${o.url}: ${e.message}; retrying`);
  });
  client.on('close', () => {
    if (client.disconnecting) return;
    if (!connected && !down) o.log.warn(`cannot reach the broker at ${o.url}${unreachable ? `: ${unreachable}` : ''} (retrying)${o.unreachableHint ? `. ${o.unreachableHint}` : ''}`);
    if (connected && !down) o.log.warn(`lost broker ${o.url}; retrying`);
    down = true;
  });
  client.on('message', (t, payload) => {
    if (o.count !== undefined && printed >= o.count) return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(payload.toString('utf8'));
    } catch {
      return warnings.warn('json', `${t}: not JSON, skipped`);
    }
    if (o.kinds?.length && !o.kinds.includes(String(event.kind))) return;
    if (typeof event.id === 'string' && !seen.first(event.id)) return void repeats++;
    print(o.json ? printableJson(JSON.stringify(event)) : formatAlert(event));
    if (++printed === o.count) void close();
  });
  const close = async () => {
    warnings.flush();
    await client.endAsync(true);
    finish(printed);
  };
  return { done, repeats: () => repeats, close };
}
