import { hash32 } from '../zipper/hash-ring.ts';
import { looksLikeFix } from './fix-checks.ts';

/**
 * Event ids made of what made an event, so that making it again — a cluster's replay of a stream message,
 * an edge source's resend after serve restarted — makes the same id, and a reader (a sink, a subscriber)
 * can keep one of each. An id is `<origin>:<n>`: its origin, then its place among the events of that origin
 * stamped by the same `EventIds`.
 */
export class EventIds {
  private readonly made = new Map<string, number>();

  /** sets `event.id`, unless it is no object or has an id of its own (a user's function may give one) */
  stamp(event: unknown, origin: string): void {
    if (!isObject(event) || event.id !== undefined) return;
    const n = this.made.get(origin) ?? 0;
    this.made.set(origin, n + 1);
    event.id = `${origin}:${n}`;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Where a record sits on its device's timeline, or undefined when it has no device and time: a fix by
 * `<device>:<t>` (two fixes there are one sent twice), anything else by its device, its fix's time (`time`,
 * ISO, or `t`) and a hash of its content, since two events there are two: a geofence's exit and enter at
 * one fix, the enter settled in a later call (they shared an id, and a sink dropped the enter).
 */
export function placeOf(r: unknown): string | undefined {
  if (typeof r !== 'object' || r === null) return undefined;
  const { deviceId, t, time } = r as Record<string, unknown>;
  const when = typeof t === 'number' ? t : typeof time === 'string' ? Date.parse(time) : NaN;
  if (typeof deviceId !== 'string' || !Number.isFinite(when)) return undefined;
  return looksLikeFix(r) ? `${deviceId}:${when}` : `${deviceId}:${when}:${hash32(JSON.stringify(r)).toString(16)}`;
}
