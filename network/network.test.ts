import { describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeGraph, encodeGraph } from './graph-file.ts';
import { loadKubicka } from './kubicka.ts';
import { loadNetwork } from './load-network.ts';
import { HIGHWAY_CLASSES } from './highway-classes.ts';
import { onewayOf, parseMaxspeed } from './osm-import.ts';
import { bboxOf, edgeCount, nodeCount, type RoadGraph } from './road-graph.ts';

const MONACO = '../shared/data/osm/monaco.osm.pbf';
const KUBICKA = '../shared/data/mapmatch-kubicka/00000000';
const tmp = () => mkdtemp(join(tmpdir(), 'geoflux-net-'));

function checkGraph(g: RoadGraph) {
  for (let e = 0; e < edgeCount(g); e++) {
    expect(g.edgeFrom[e]).toBeLessThan(nodeCount(g));
    expect(g.edgeTo[e]).toBeLessThan(nodeCount(g));
    expect(g.edgeLength[e]).toBeGreaterThanOrEqual(0);
    const [a, z] = [g.pointStart[e], g.pointStart[e + 1] - 1];
    expect([g.pointLon[a], g.pointLat[a]]).toEqual([g.nodeLon[g.edgeFrom[e]], g.nodeLat[g.edgeFrom[e]]]);
    expect([g.pointLon[z], g.pointLat[z]]).toEqual([g.nodeLon[g.edgeTo[e]], g.nodeLat[g.edgeTo[e]]]);
  }
}

describe('road network', () => {
  it('imports the drivable ways of the Monaco extract, split at intersections', async () => {
    const dir = await tmp();
    const { graph: g } = await loadNetwork(MONACO, dir);
    expect(nodeCount(g)).toBeGreaterThan(2000);
    expect(edgeCount(g)).toBeGreaterThan(4000);
    checkGraph(g);
    const [w, s, e, n] = bboxOf(g);
    expect(w).toBeGreaterThan(7.3);
    expect(e).toBeLessThan(7.55);
    expect(s).toBeGreaterThan(43.7);
    expect(n).toBeLessThan(43.8);
    // motorways are one way: no motorway edge has its reverse twin
    const motorway = HIGHWAY_CLASSES.findIndex(([c]) => c === 'motorway');
    const pairs = new Set<string>();
    for (let i = 0; i < edgeCount(g); i++) if (g.edgeClass[i] === motorway) pairs.add(`${g.edgeFrom[i]}>${g.edgeTo[i]}`);
    expect(pairs.size).toBeGreaterThan(0);
    for (const p of pairs) expect(pairs.has(p.split('>').reverse().join('>'))).toBe(false);
    // two-way residential streets have both directions
    const residential = HIGHWAY_CLASSES.findIndex(([c]) => c === 'residential');
    let twoWay = 0;
    const all = new Set<string>();
    for (let i = 0; i < edgeCount(g); i++) all.add(`${g.edgeFrom[i]}>${g.edgeTo[i]}`);
    for (let i = 0; i < edgeCount(g); i++) if (g.edgeClass[i] === residential && all.has(`${g.edgeTo[i]}>${g.edgeFrom[i]}`)) twoWay++;
    expect(twoWay).toBeGreaterThan(500);
  });

  it('reads oneway and maxspeed as OSM writes them', () => {
    expect(onewayOf({ highway: 'residential' })).toBe(0);
    expect(onewayOf({ highway: 'residential', oneway: 'yes' })).toBe(1);
    expect(onewayOf({ highway: 'residential', oneway: '-1' })).toBe(-1);
    expect(onewayOf({ highway: 'primary', junction: 'roundabout' })).toBe(1);
    expect(onewayOf({ highway: 'motorway' })).toBe(1);
    expect(onewayOf({ highway: 'motorway', oneway: 'no' })).toBe(0);
    expect(parseMaxspeed('50')).toBeCloseTo(13.889, 3);
    expect(parseMaxspeed('30 mph')).toBeCloseTo(13.411, 3);
    expect(parseMaxspeed('none')).toBeUndefined();
  });

  it('caches the graph keyed by the input, and imports again when the input changes', async () => {
    const dir = await tmp();
    const input = join(dir, 'monaco.osm.pbf');
    await copyFile(MONACO, input);
    const first = await loadNetwork(input);
    expect(first.fromCache).toBe(false);
    expect(first.cache!.startsWith(dir)).toBe(true); // next to the input
    const second = await loadNetwork(input);
    expect(second.fromCache).toBe(true);
    expect(edgeCount(second.graph)).toBe(edgeCount(first.graph));
    await writeFile(input, (await readFile(MONACO)).subarray(0, 5000)); // changed (and now broken)
    await expect(loadNetwork(input)).rejects.toThrow(/monaco.osm.pbf: not a readable OSM PBF/);
  });

  it('never writes into the shared data', async () => {
    const net = await loadNetwork(MONACO, undefined);
    expect(net.cache).toContain('.cache/networks/');
  });

  it('round-trips the compact graph file, segment index included', async () => {
    const { graph, index } = await loadNetwork(KUBICKA);
    const back = decodeGraph(encodeGraph(graph, index));
    expect(back).toEqual({ graph, index });
    expect(() => decodeGraph(encodeGraph(graph, index).subarray(0, 100))).toThrow(/cut short/);
  });

  it('loads the Kubička benchmark network with arc id = row index', async () => {
    const g = await loadKubicka(KUBICKA);
    const arcs = (await readFile(`${KUBICKA}.arcs`, 'utf8')).trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
    expect(edgeCount(g)).toBe(arcs.length);
    expect(nodeCount(g)).toBe((await readFile(`${KUBICKA}.nodes`, 'utf8')).trim().split('\n').length);
    for (const i of [0, 1, 100, arcs.length - 1]) expect([g.edgeFrom[i], g.edgeTo[i], g.edgeWay[i]]).toEqual([arcs[i][0], arcs[i][1], i]);
    checkGraph(g);
  });
});
