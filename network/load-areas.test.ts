import { describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAreas } from './load-areas.ts';
import { areasFromOsm } from './osm-areas.ts';

const MONACO = '../shared/data/osm/monaco.osm.pbf';

describe('loadAreas', () => {
  it('derives the areas once, then reads them from a cache keyed by the PBF and the level', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-areas-'));
    const input = join(dir, 'monaco.osm.pbf');
    await copyFile(MONACO, input);
    const first = await loadAreas(input);
    expect(first).toEqual(await areasFromOsm(MONACO));
    const [cache] = (await readdir(dir)).filter((f) => f.endsWith('.admin10.geojson'));
    expect(cache).toMatch(/^monaco\.osm\.pbf\.[0-9a-f]{16}\.admin10\.geojson$/);
    // what the cache says is what a second load returns: it is not derived again
    const marked = { ...first, features: first.features.slice(0, 1) };
    await writeFile(join(dir, cache), JSON.stringify(marked));
    expect(await loadAreas(input)).toEqual(marked);
    // another level is another cache; a changed PBF is derived again (and now refused)
    expect((await loadAreas(input, 8)).features.length).not.toBe(1);
    await writeFile(input, (await readFile(MONACO)).subarray(0, 5000));
    await expect(loadAreas(input)).rejects.toThrow(/monaco.osm.pbf: not a readable OSM PBF/);
  });
});
