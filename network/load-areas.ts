import { readFile } from 'node:fs/promises';
import { cacheFile, writeCacheFile } from './cache-file.ts';
import type { AreaFeature } from './osm-areas.ts';

/**
 * An OSM PBF's areas at one admin level (osm-areas.ts), derived once and then read from a cache file keyed
 * by the PBF's hash and the level, as road networks are (cache-file.ts). Deriving them holds every node of
 * the extract at once (Monaco's quarters: ~100 MB of heap in each thread that did, the geofence's and the
 * dashboard's, kept in the thread's resident memory long after); the cached GeoJSON is a few hundred kB.
 */
export async function loadAreas(path: string, adminLevel = 10, cacheDir?: string): Promise<{ type: 'FeatureCollection'; features: AreaFeature[] }> {
  const cache = await cacheFile(path, await readFile(path), `admin${adminLevel}.geojson`, cacheDir);
  try {
    return JSON.parse(await readFile(cache, 'utf8'));
  } catch {
    /* not derived yet, or an unreadable cache: derive */
  }
  // the PBF reader only when there is no cache: a thread that reads the cached GeoJSON never loads it
  const { areasFromOsm } = await import('./osm-areas.ts');
  const areas = await areasFromOsm(path, { adminLevel });
  await writeCacheFile(cache, JSON.stringify(areas));
  return areas;
}
