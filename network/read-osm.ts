import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { OSMTransform } from 'osm-pbf-parser-node';

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
    // the library's createOSMStream pipes a file stream without passing on its errors: a missing file was an
    // unhandled 'error' event that ended the process; pipeline() makes it this loop's error
    const chunks = pipeline(createReadStream(path), new OSMTransform({ withInfo: false, withTags: { node: false, way: q.wayTags, relation: q.relationTags } }), () => {});
    for await (const chunk of chunks as AsyncIterable<Item[]>) for (const item of chunk) {
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
    // the code stays, so a caller can still say "no such file"
    throw Object.assign(new Error(`${path}: not a readable OSM PBF (${(e as Error).message})`), { code: (e as NodeJS.ErrnoException).code });
  }
  return { coords, ways, relations };
}
