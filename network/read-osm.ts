import { createOSMStream } from 'osm-pbf-parser-node';

export type Position = [number, number];

export interface OsmWay {
  id: number;
  refs: number[];
  tags: Record<string, string>;
}

export interface OsmRelation {
  id: number;
  tags: Record<string, string>;
  members: { type: string; ref: number; role: string }[];
}

export interface OsmQuery {
  /** read way tags (off: `keepWay` sees empty tags, and the reader skips decoding them) */
  wayTags: boolean;
  relationTags: boolean;
  keepWay: (w: OsmWay) => boolean;
  keepRelation: (r: OsmRelation) => boolean;
}

interface Item extends OsmWay, OsmRelation {
  type: 'node' | 'way' | 'relation';
  lon: number;
  lat: number;
}

/**
 * One pass over an OSM PBF: every node's position, and the ways and relations a query keeps. Node tags are
 * never decoded (nothing here needs them, and they are most of a file's strings). A file the reader cannot
 * parse is an error that names it.
 */
export async function readOsm(path: string, q: OsmQuery): Promise<{ coords: Map<number, Position>; ways: OsmWay[]; relations: OsmRelation[] }> {
  const coords = new Map<number, Position>();
  const ways: OsmWay[] = [];
  const relations: OsmRelation[] = [];
  try {
    const items = createOSMStream(path, { withInfo: false, withTags: { node: false, way: q.wayTags, relation: q.relationTags } }) as AsyncGenerator<Item>;
    for await (const item of items) {
      if (item.type === 'node') coords.set(item.id, [item.lon, item.lat]);
      else if (item.type === 'way') {
        item.tags ??= {};
        if (q.keepWay(item)) ways.push(item);
      } else if (item.type === 'relation') {
        item.tags ??= {};
        if (q.keepRelation(item)) relations.push(item);
      }
    }
  } catch (e) {
    throw new Error(`${path}: not a readable OSM PBF (${(e as Error).message})`);
  }
  return { coords, ways, relations };
}
