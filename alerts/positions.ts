/** One vehicle on the live map: where it was last seen (matched, when it came from map matching) and how fast. */
export interface Position {
  deviceId: string;
  /** epoch ms of the fix */
  t: number;
  lon: number;
  lat: number;
  /** m/s, null when the fix had none */
  speed: number | null;
}

/** What a positions topic carries: every device seen in the last `keep` ms, as of `t`. */
export interface PositionsMessage {
  t: number;
  vehicles: Position[];
}

export const DEFAULT_POSITIONS_TOPIC = 'geoflux/positions';

type Event = Record<string, any>;

// 6 decimals of a degree is ~0.1 m: finer only lengthens the message
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * Folds fixes (GPS records) and matched fixes (mapmatch events) into each device's latest position, for one
 * message a period that holds the whole fleet: a map of 2,000 vehicles then parses one message a second
 * rather than 2,000 (docs/dashboard.md has the measurement). Devices not seen for `keep` ms drop out.
 */
export class LatestPositions {
  private readonly latest = new Map<string, Position & { seen: number }>();
  private changed = false;

  constructor(private readonly keep = 60_000) {}

  update(e: Event): void {
    if (typeof e.deviceId !== 'string') return;
    let lon: number, lat: number;
    if (e.kind === 'mapmatch') {
      if (e.detect !== 'matched') return;
      [lon, lat] = e.point;
    } else if (e.kind === undefined && typeof e.lon === 'number' && typeof e.lat === 'number') [lon, lat] = [e.lon, e.lat];
    else return;
    const prev = this.latest.get(e.deviceId);
    if (prev && prev.t > e.t) return;
    this.latest.set(e.deviceId, { deviceId: e.deviceId, t: e.t, lon: round6(lon), lat: round6(lat), speed: typeof e.speed === 'number' ? Math.round(e.speed * 10) / 10 : null, seen: Date.now() });
    this.changed = true;
  }

  /** the fleet as of now, or undefined when nothing moved since the last call */
  take(now = Date.now()): PositionsMessage | undefined {
    if (!this.changed) return undefined;
    this.changed = false;
    const vehicles: Position[] = [];
    for (const [id, p] of this.latest) {
      if (now - p.seen > this.keep) this.latest.delete(id);
      else vehicles.push({ deviceId: p.deviceId, t: p.t, lon: p.lon, lat: p.lat, speed: p.speed });
    }
    return { t: now, vehicles };
  }
}
