import { readFile } from 'node:fs/promises';
import { GraphBuilder, type RoadGraph } from './road-graph.ts';

/**
 * The Kubička et al. map-matching benchmark network: `<name>.nodes` (`lon lat` per row, row = node id) and
 * `<name>.arcs` (`from to` per row, row = arc id), into the same graph; edge i is arc i, a straight segment.
 */
export async function loadKubicka(prefix: string): Promise<RoadGraph> {
  const rows = async (ext: string) =>
    (await readFile(`${prefix}.${ext}`, 'utf8'))
      .split(/\r?\n/)
      .filter((l) => l.trim())
      .map((l) => l.trim().split(/\s+/).map(Number));
  const [nodes, arcs] = await Promise.all([rows('nodes'), rows('arcs')]);
  const b = new GraphBuilder();
  nodes.forEach(([lon, lat], i) => b.node(i, lon, lat));
  arcs.forEach(([from, to], i) => {
    const a = nodes[from];
    const z = nodes[to];
    if (!a || !z) throw new Error(`${prefix}.arcs row ${i}: node ${!a ? from : to} is not in ${prefix}.nodes`);
    b.edge(b.node(from, a[0], a[1]), b.node(to, z[0], z[1]), [[a[0], a[1]], [z[0], z[1]]], i, 255, 50 / 3.6);
  });
  return b.build();
}
