import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { FenceError } from './fence-compiler.ts';

/**
 * Fences from a file: GeoJSON, or an OSM PBF whose administrative boundaries at `adminLevel` (default 10,
 * a city's quarters) become the fences. Returns the GeoJSON and the path that names it in errors.
 */
export async function loadFences(file: string, baseDir = process.cwd(), adminLevel?: number): Promise<{ geojson: unknown; source: string }> {
  const source = resolve(baseDir, file);
  try {
    // the OSM reader only for a PBF: a gateway's fences are GeoJSON
    const geojson = source.endsWith('.pbf') ? await (await import('../network/load-areas.ts')).loadAreas(source, adminLevel) : JSON.parse(await readFile(source, 'utf8'));
    return { geojson, source };
  } catch (e) {
    const said = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    // an OSM PBF's reader names the file already (network/read-osm.ts): said once
    throw new FenceError(said.startsWith(`${source}: `) ? said : `${source}: ${said}`);
  }
}
