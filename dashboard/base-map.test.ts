import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../network/road-graph.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { loadBaseMap, roadsGeoJson } from './base-map.ts';

describe('the base map', () => {
  it('draws a two-way road once and a one-way road once, each with its OSM class', () => {
    const b = new GraphBuilder();
    const [x, y, z] = [b.node('x', 7.42, 43.73), b.node('y', 7.43, 43.73), b.node('z', 7.43, 43.74)];
    b.edge(x, y, [[7.42, 43.73], [7.43, 43.73]], 11, 4, 14);
    b.edge(y, x, [[7.43, 43.73], [7.42, 43.73]], 11, 4, 14);
    b.edge(y, z, [[7.43, 43.73], [7.4300001234, 43.74]], 12, 11, 8);
    expect(roadsGeoJson(b.build()).features).toEqual([
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[7.42, 43.73], [7.43, 43.73]] }, properties: { class: 'primary', way: 11, oneway: false } },
      { type: 'Feature', geometry: { type: 'LineString', coordinates: [[7.43, 43.73], [7.43, 43.74]] }, properties: { class: 'residential', way: 12, oneway: true } },
    ]);
  });

  it("makes Monaco's roads and its nine quarters from the demo workflow's own files, framed on the quarters", async () => {
    const { roads, fences, bbox } = await loadBaseMap(await loadWorkflow('workflow.yaml', {}));
    expect(roads.features.length).toBeGreaterThan(2000);
    expect([...new Set(roads.features.map((f) => f.properties.class))]).toEqual(expect.arrayContaining(['primary', 'secondary', 'residential']));
    expect(fences.features.map((f) => f.properties.fence).sort()).toEqual(['Fontvieille', 'Jardin Exotique', 'La Condamine', 'La Rousse', 'Larvotto', 'Les Monegetti', 'Monaco-Ville', 'Monte-Carlo', 'Sainte-Dévote']);
    expect(fences.features[0].properties.function).toBe('quarters');
    const [w, s, e, n] = bbox!;
    expect([w, s, e, n].map((v) => Math.round(v * 100) / 100)).toEqual([7.41, 43.72, 7.44, 43.75]);
  });

  it('draws a circular fence as a polygon', async () => {
    const { parseWorkflow } = await import('../workflows/load.ts');
    const wf = parseWorkflow('name: c\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16, f: 17 }\nfunctions:\n  - { name: depot, observe: [gps], emit: f, host: local, kernel: geofence, params: { fences: depot.geojson } }\n', 'dashboard/testdata/c.yaml', {});
    const { fences, roads, bbox } = await loadBaseMap(wf);
    expect(roads.features).toEqual([]);
    expect(fences.features).toHaveLength(1);
    expect(fences.features[0]).toMatchObject({ geometry: { type: 'Polygon' }, properties: { fence: 'depot', name: 'Depot' } });
    expect(bbox![2] - bbox![0]).toBeCloseTo((2 * 150) / (111_320 * Math.cos((43.7384 * Math.PI) / 180)), 4);
  });
});
