import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import type { Clock } from '../transport/liveness.ts';
import type { Sample } from '../metrics/families.ts';

/**
 * Why the query API answered something other than 200: `bad_param` (400: the message says which),
 * `unknown_vehicle` (404 from /v1/fields), `no_route` (404: no such endpoint), `method` (405), `no_fleet`
 * (404: the workflow keeps no index), `too_large` (413), `error` (500: a bug here).
 */
export type QueryRefusalReason = 'bad_param' | 'unknown_vehicle' | 'no_route' | 'method' | 'no_fleet' | 'too_large' | 'error';

/**
 * The query API's refusals, counted by endpoint and reason (`geoflux_query_refused_total`) and logged once
 * per endpoint and reason per 10 s with how many more there were: a client sending a bad query in a loop is
 * seen in the log and the metrics, not only by itself. A path that is no endpoint counts as `other`, so a
 * scanner cannot add a label value per URL it tries.
 */
export class QueryRefusals {
  private readonly counts = new Map<string, { endpoint: string; reason: QueryRefusalReason; n: number }>();
  private readonly warn: RateLimitedLog;

  constructor(
    log: Logger,
    private readonly endpoints: readonly string[],
    o: { clock?: Clock } = {},
  ) {
    this.warn = new RateLimitedLog(log, o);
  }

  refuse(path: string, reason: QueryRefusalReason, message: string): void {
    const endpoint = this.endpoints.includes(path) ? path : 'other';
    const key = `${endpoint} ${reason}`;
    const c = this.counts.get(key) ?? this.counts.set(key, { endpoint, reason, n: 0 }).get(key)!;
    c.n++;
    // the path quoted: it is the client's text, and may hold anything
    this.warn.warn(key, `query ${JSON.stringify(path)} refused (${reason}): ${message}`);
  }

  samples(): Sample[] {
    return [...this.counts.values()].map((c) => ({ labels: { endpoint: c.endpoint, reason: c.reason }, value: c.n }));
  }

  /** says what the rate limit held back; when the server closes */
  flush(): void {
    this.warn.flush();
  }
}
