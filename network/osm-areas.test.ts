import { createGeofence } from '../kernels/create-kernel.ts';
import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import { areasFromOsm, joinRings } from './osm-areas.ts';

const MONACO = '../shared/data/osm/monaco.osm.pbf';

describe('areas from OSM', () => {
  it('joins ways that share end nodes into rings, whichever way each runs', () => {
    expect(joinRings([[1, 2, 3], [5, 4, 3], [5, 6, 1]])).toEqual([[1, 2, 3, 4, 5, 6, 1]]);
    // a piece that never closes is not a ring
    expect(joinRings([[1, 2, 3], [3, 4]])).toEqual([]);
  });

  it("cuts Monaco's quarters from the PBF, and they work as geofences", async () => {
    const fc = await areasFromOsm(MONACO);
    expect(fc.features.map((f) => f.id).sort()).toEqual(
      ['Fontvieille', 'Jardin Exotique', 'La Condamine', 'La Rousse', 'Larvotto', 'Les Monegetti', 'Monaco-Ville', 'Monte-Carlo', 'Sainte-Dévote'].sort(),
    );
    const k = await createGeofence({ fences: MONACO }, { contains: true });
    const places = [
      { deviceId: 'casino', t: 0, lon: 7.4283, lat: 43.7394 }, // Casino de Monte-Carlo
      { deviceId: 'palace', t: 0, lon: 7.4204, lat: 43.7314 }, // Prince's Palace, on the Rock
      { deviceId: 'sea', t: 0, lon: 7.45, lat: 43.72 },
    ];
    expect(k.contains(batchFromRecords(places)).map((fs) => fs.map((f) => k.fences[f].id))).toEqual([['Monte-Carlo'], ['Monaco-Ville'], []]);
  });
});
