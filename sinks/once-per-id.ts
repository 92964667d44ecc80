import { RecentIds } from '../alerts/recent-ids.ts';
import { quoted } from '../codecs/control-characters.ts';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';

/** ids a sink remembers: an edge source's resend after a restart makes again the events of its last seconds */
export const SINK_RECENT_IDS = 10_000;

/**
 * A sink's events once each by `id`: one whose id it took among its last SINK_RECENT_IDS is dropped,
 * counted and said (rate-limited). An event without an id always passes. `seen`: the ids it took before a
 * restart, so a source's resend to the new serve is not published twice.
 */
export class OncePerId {
  /** events dropped as repeats */
  dropped = 0;
  private readonly recent: RecentIds;
  private readonly warn: RateLimitedLog;

  constructor(log: Logger, seen: string[] = []) {
    this.recent = new RecentIds(SINK_RECENT_IDS, seen);
    this.warn = new RateLimitedLog(log);
  }

  /** true for an event to publish */
  first(event: object): boolean {
    const id = (event as { id?: unknown }).id;
    if (typeof id !== 'string' || this.recent.first(id)) return true;
    this.dropped++;
    this.warn.warn('repeat', `dropped an event published before (id ${quoted(id)}): its input came again, resent after a restart or handled again after a crash`);
    return false;
  }

  /** the ids taken, oldest first, to be kept across a restart */
  ids(): string[] {
    return this.recent.list();
  }
}
