import { setMaxListeners } from 'node:events';
import { Agent, get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GpsRecord } from '../../codecs/gps-record.ts';
import { KNOT } from '../../codecs/fix-checks.ts';

/**
 * Fixes sent the way Traccar Client sends them to an osmand listener (a GET per fix: id, lat, lon,
 * timestamp in unix seconds… here ms, which Traccar reads too, speed in knots, bearing, accuracy): what a
 * simulator posing as a fleet of phones does (`builtin:traffic` with `as: osmand`).
 */

/** the request URL of one fix */
export function osmandUrl(base: string, f: GpsRecord): string {
  const q = new URLSearchParams({ id: f.deviceId, lat: String(f.lat), lon: String(f.lon), timestamp: String(f.t) });
  if (f.speed !== undefined && Number.isFinite(f.speed)) q.set('speed', String(f.speed / KNOT));
  if (f.heading !== undefined && Number.isFinite(f.heading)) q.set('bearing', String(f.heading));
  if (f.accuracy !== undefined && Number.isFinite(f.accuracy)) q.set('accuracy', String(f.accuracy));
  return `${base.replace(/\/$/, '')}/?${q}`;
}

export interface OsmandPoster {
  /** sends fixes, `concurrency` requests at a time; resolves when each is answered or given up */
  send(fixes: readonly GpsRecord[]): Promise<void>;
  stats(): { sent: number; unsent: number };
}

/**
 * Sends each fix with up to `tries` attempts (a listener still starting refuses connections): a fix the
 * listener answers 4xx is not tried again (it will not take it), and is counted unsent like one that ran
 * out of tries; `onUnsent` says why, for a rate-limited log line. Once `signal` aborts (serve stopping),
 * nothing more is tried: what is left is counted unsent at once.
 */
export function osmandPoster(base: string, o: { concurrency?: number; tries?: number; retryMs?: number; signal: AbortSignal; onUnsent: (why: string) => void }): OsmandPoster {
  const tries = o.tries ?? 5;
  // node:http, not fetch: undici in a worker thread segfaulted the process (3 of 6 runs of `--as osmand`,
  // at its start and at Ctrl-C) when the thread ended with requests in flight
  // a connection a request, as a phone makes: a kept-alive socket the listener has just closed reset requests
  const agent = new Agent({ keepAlive: false, maxSockets: o.concurrency ?? 32 });
  o.signal.addEventListener('abort', () => agent.destroy(), { once: true });
  // each request waiting to retry listens for the stop: as many as run at once, which Node would warn of
  setMaxListeners((o.concurrency ?? 32) + 1, o.signal);
  const status = (url: string) =>
    new Promise<number>((resolve, reject) => {
      get(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      }).on('error', reject);
    });
  let sent = 0;
  let unsent = 0;
  const one = async (f: GpsRecord) => {
    let why = 'the source is stopping';
    for (let i = 0; i < tries && !o.signal.aborted; i++) {
      try {
        const code = await status(osmandUrl(base, f));
        if (code >= 200 && code < 300) return void sent++;
        why = `${base} answered ${code} for ${f.deviceId}`;
        if (code < 500) break;
      } catch (e) {
        why = `${base}: ${(e as Error).message}`;
      }
      // cut short when serve stops
      await sleep((o.retryMs ?? 250) * (i + 1), undefined, { signal: o.signal }).catch(() => {});
    }
    unsent++;
    o.onUnsent(why);
  };
  return {
    async send(fixes) {
      let next = 0;
      const worker = async () => {
        while (next < fixes.length) await one(fixes[next++]);
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 32, fixes.length) }, worker));
    },
    stats: () => ({ sent, unsent }),
  };
}

