import type { HotspotEvent } from '../../kernels/browser.ts';

/** A hotspot alert as the page reads it off MQTT: the hotspot kernel's event, as JSON. */
export type HotspotAlert = HotspotEvent;

const FADE_MS = 30_000;

/**
 * Hot cells as squares coloured by z. A cell that cools fades out over half a minute rather than vanishing,
 * so the eye can follow where the congestion was. Each cell's alerts are retained on their topics, so a page
 * that connects late gets a cell's last hot and its last cooled at once, in no set order: the later window
 * decides.
 */
export class HotCells {
  private readonly cells = new Map<string, { alert: HotspotAlert; cooledAt?: number }>();
  private readonly latest = new Map<string, string>();

  update(a: HotspotAlert, now = performance.now()): void {
    const end = a.window?.end ?? '';
    if ((this.latest.get(a.cell.id) ?? '') > end) return;
    this.latest.set(a.cell.id, end);
    if (a.detect === 'hot') this.cells.set(a.cell.id, { alert: a });
    else {
      const c = this.cells.get(a.cell.id);
      if (c && c.cooledAt === undefined) c.cooledAt = now;
    }
  }

  get hot(): number {
    let n = 0;
    for (const c of this.cells.values()) if (c.cooledAt === undefined) n++;
    return n;
  }

  /** something is fading: the map needs redrawing as time passes */
  get fading(): boolean {
    for (const c of this.cells.values()) if (c.cooledAt !== undefined) return true;
    return false;
  }

  geojson(now = performance.now()): GeoJSON.FeatureCollection<GeoJSON.Polygon> {
    const features: GeoJSON.Feature<GeoJSON.Polygon>[] = [];
    for (const [id, c] of this.cells) {
      const opacity = c.cooledAt === undefined ? 1 : 1 - (now - c.cooledAt) / FADE_MS;
      if (opacity <= 0) {
        this.cells.delete(id);
        continue;
      }
      const [w, s, e, n] = c.alert.cell.bbox;
      features.push({ type: 'Feature', geometry: { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] }, properties: { id, z: c.alert.z, opacity } });
    }
    return { type: 'FeatureCollection', features };
  }
}
