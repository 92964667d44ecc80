import { HIGHWAY_CLASSES } from './highway-classes.ts';
import { readOsm } from './read-osm.ts';
import { GraphBuilder, type RoadGraph } from './road-graph.ts';

/**
 * Drivable ways of an OSM PBF as a directed road graph. Ways are split at every node two drivable ways
 * share; `oneway` (yes/true/1, -1), roundabouts and motorways decide the directions. Speeds come from
 * `maxspeed` when it can be read, else its class's default (highway-classes.ts).
 */

const CLASS_INDEX = new Map(HIGHWAY_CLASSES.map(([c], i) => [c, i]));
const KMH = 1 / 3.6;

/** `maxspeed` in m/s: "50", "30 mph", "50;70" (first); else undefined */
export function parseMaxspeed(v: string | undefined): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(mph|km\/h|kmh)?/i.exec(v ?? '');
  if (!m) return undefined;
  const x = Number(m[1]);
  return m[2]?.toLowerCase() === 'mph' ? x * 0.44704 : x * KMH;
}

/** +1 forward only, -1 backward only, 0 both ways */
export function onewayOf(tags: Record<string, string>): -1 | 0 | 1 {
  const o = tags.oneway;
  if (o === '-1' || o === 'reverse') return -1;
  if (o === 'yes' || o === 'true' || o === '1') return 1;
  if (o === 'no' || o === 'false' || o === '0') return 0;
  if (tags.junction === 'roundabout' || tags.junction === 'circular' || tags.highway === 'motorway') return 1;
  return 0;
}

export async function importOsm(path: string): Promise<RoadGraph> {
  const { coords, ways } = await readOsm(path, {
    wayTags: true,
    relationTags: false,
    keepWay: (w) => CLASS_INDEX.has(w.tags.highway) && w.tags.access !== 'no' && w.tags.area !== 'yes',
    keepRelation: () => false,
  });
  if (ways.length === 0) throw new Error(`${path}: no drivable ways (is it an OSM PBF extract?)`);
  // a node is a graph node when two ways share it, or it ends a way
  const uses = new Map<number, number>();
  for (const w of ways) w.refs.forEach((r, i) => uses.set(r, (uses.get(r) ?? 0) + (i === 0 || i === w.refs.length - 1 ? 2 : 1)));
  const b = new GraphBuilder();
  let missing = 0;
  for (const w of ways) {
    const cls = CLASS_INDEX.get(w.tags.highway)!;
    const speed = parseMaxspeed(w.tags.maxspeed) ?? HIGHWAY_CLASSES[cls][1] * KMH;
    const dir = onewayOf(w.tags);
    let piece: [number, number][] = [];
    let startRef = -1;
    for (let i = 0; i < w.refs.length; i++) {
      const ref = w.refs[i];
      const c = coords.get(ref);
      if (!c) {
        missing++;
        piece = [];
        startRef = -1;
        continue;
      }
      piece.push(c);
      if (startRef < 0) {
        startRef = ref;
        continue;
      }
      if ((uses.get(ref) ?? 0) >= 2 || i === w.refs.length - 1) {
        const a = b.node(startRef, piece[0][0], piece[0][1]);
        const z = b.node(ref, c[0], c[1]);
        if (dir >= 0) b.edge(a, z, piece, w.id, cls, speed);
        if (dir <= 0) b.edge(z, a, [...piece].reverse(), w.id, cls, speed);
        piece = [c];
        startRef = ref;
      }
    }
  }
  if (missing) process.emitWarning(`${path}: ${missing} way nodes are not in the extract; the ways were cut there`);
  return b.build();
}
