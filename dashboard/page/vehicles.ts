import type { PositionsMessage, Position } from '../../alerts/positions.ts';

/**
 * The fleet as the page knows it: each vehicle's latest position (newer fixes only: the retained message
 * comes again on every reconnect), which of them moved in the last message, and the fixes that are new,
 * for the page's own kernels.
 */
export class Fleet {
  readonly latest = new Map<string, Position>();
  moving = 0;

  /** takes a positions message; returns the fixes newer than what the page had */
  update(m: PositionsMessage): Position[] {
    const fresh: Position[] = [];
    let moving = 0;
    for (const v of m.vehicles) {
      const prev = this.latest.get(v.deviceId);
      if (prev && prev.t >= v.t) continue;
      if (prev && (prev.lon !== v.lon || prev.lat !== v.lat)) moving++;
      this.latest.set(v.deviceId, v);
      fresh.push(v);
    }
    if (fresh.length) this.moving = moving;
    return fresh;
  }

  geojson(): GeoJSON.FeatureCollection<GeoJSON.Point> {
    const features: GeoJSON.Feature<GeoJSON.Point>[] = [];
    for (const v of this.latest.values()) {
      features.push({ type: 'Feature', geometry: { type: 'Point', coordinates: [v.lon, v.lat] }, properties: { id: v.deviceId, kmh: v.speed === null ? null : v.speed * 3.6 } });
    }
    return { type: 'FeatureCollection', features };
  }
}

const FLASH_MS = 2000;

/** Vehicles that just entered or left a fence: a ring that grows and fades for two seconds. */
export class Flashes {
  private readonly rings: { at: number; point: [number, number]; detect: string }[] = [];

  add(point: [number, number], detect: string, now = performance.now()): void {
    this.rings.push({ at: now, point, detect });
  }

  get active(): boolean {
    return this.rings.length > 0;
  }

  geojson(now = performance.now()): GeoJSON.FeatureCollection<GeoJSON.Point> {
    while (this.rings.length && now - this.rings[0].at > FLASH_MS) this.rings.shift();
    return {
      type: 'FeatureCollection',
      features: this.rings.map((r) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: r.point }, properties: { detect: r.detect, age: Math.min(1, (now - r.at) / FLASH_MS) } })),
    };
  }
}
