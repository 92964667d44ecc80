import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { cacheFile, writeCacheFile } from './cache-file.ts';
import { decodeGraph, encodeGraph } from './graph-file.ts';
import { loadKubicka } from './kubicka.ts';
import type { RoadGraph } from './road-graph.ts';
import { buildSegmentIndex, type SegmentIndex } from './segment-index.ts';

export interface LoadedNetwork {
  graph: RoadGraph;
  index: SegmentIndex;
  /** 'osm' or 'kubicka' */
  format: string;
  /** the compact file the graph was read from or written to (OSM only) */
  cache?: string;
  fromCache: boolean;
  ms: number;
}

/**
 * A road network from an OSM PBF (imported once, then read from a cache file keyed by the PBF's hash, so a
 * changed PBF is imported again) or from a Kubička benchmark prefix or directory.
 * Where the cache goes: network/cache-file.ts.
 */
export async function loadNetwork(input: string, cacheDir?: string): Promise<LoadedNetwork> {
  const t0 = performance.now();
  const path = resolve(input);
  const kubicka = await kubickaPrefix(path);
  if (kubicka) {
    const graph = await loadKubicka(kubicka);
    return { graph, index: buildSegmentIndex(graph), format: 'kubicka', fromCache: false, ms: performance.now() - t0 };
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`${input}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const cache = await cacheFile(path, bytes, 'graph', cacheDir);
  try {
    const { graph, index } = decodeGraph(new Uint8Array(await readFile(cache)));
    return { graph, index, format: 'osm', cache, fromCache: true, ms: performance.now() - t0 };
  } catch {
    /* no cache yet, or an unreadable one: import */
  }
  // the PBF reader only to import: a cached or a Kubička network never loads it
  const { importOsm } = await import('./osm-import.ts');
  const graph = await importOsm(path);
  const index = buildSegmentIndex(graph);
  await writeCacheFile(cache, encodeGraph(graph, index));
  return { graph, index, format: 'osm', cache, fromCache: false, ms: performance.now() - t0 };
}

/** `dir/00000000` for `dir/00000000.nodes`, the directory holding one, or the prefix itself */
async function kubickaPrefix(path: string): Promise<string | undefined> {
  const exists = (p: string) => stat(p).then(() => true, () => false);
  if (/\.(nodes|arcs)$/.test(path)) return path.replace(/\.(nodes|arcs)$/, '');
  if (await exists(`${path}.nodes`)) return path;
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) {
    const { readdir } = await import('node:fs/promises');
    const nodes = (await readdir(path)).find((f) => f.endsWith('.nodes'));
    if (nodes) return join(path, nodes.replace(/\.nodes$/, ''));
  }
  return undefined;
}
