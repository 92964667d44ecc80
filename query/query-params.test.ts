import { describe, expect, it } from 'vitest';
import { MAX_FIELD_BYTES, readFields, readGeometry, readNearby, readParams, readWhere } from './query-params.ts';

describe('the query API’s parameters', () => {
  it('reads a query string as a form, each parameter once', () => {
    expect([...readParams('lon=7.42&lat=43.7&where=status%3Afree+now,kind:van&k')]).toEqual([
      ['lon', '7.42'],
      ['lat', '43.7'],
      ['where', 'status:free now,kind:van'],
      ['k', ''],
    ]);
    expect(() => readParams('lon=7&lat=43&k=5&k=7')).toThrow('k is given twice (k=5 and k=7): give it once');
    expect(() => readParams('where=%E0%A4%A')).toThrow('a malformed %-escape in "%E0%A4%A"');
    expect(readNearby(readParams('lon=7.4&lat=43.7'))).toMatchObject({ lon: 7.4, lat: 43.7, k: 5 });
    expect(() => readNearby(readParams('lon=7.4&lat=43.7&radius=1e309'))).toThrow('radius must be metres > 0 (got "1e309", beyond the largest number, about 1.8e308)');
  });

  it('takes where as field:value pairs, one colon and one field each', () => {
    expect(readWhere(readParams('where=status:free,kind:van'))).toEqual({ status: 'free', kind: 'van' });
    expect(() => readWhere(readParams('where=a:b:c'))).toThrow('where takes field:value pairs, one \':\' each (got "a:b:c")');
    expect(() => readWhere(readParams('where=a:1,a:2'))).toThrow('where names a twice');
  });

  it('refuses a polygon whose ring crosses itself (a bow tie), saying where', () => {
    const bowTie = { type: 'Polygon', coordinates: [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]] };
    expect(() => readGeometry(JSON.stringify(bowTie), true)).toThrow('a polygon ring crosses itself near 0.5000000,0.5000000: split it into polygons that do not (a MultiPolygon)');
    const square = { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] };
    expect(readGeometry(JSON.stringify(square), true).polygons).toHaveLength(1);
  });

  it('refuses a user field where could never ask for or match, or past its size, and says what the body should be', () => {
    const fields = (f: object) => () => readFields(JSON.stringify({ deviceId: 'car-1', fields: f }));
    expect(fields({ eta: '08:30' })).toThrow('field eta: a text with "," or ":" ("08:30"), which where=field:value,… could never match');
    expect(fields({ 'a:b': 1 })).toThrow('field name "a:b": 1 to 64 characters without "," or ":"');
    expect(fields({ note: 'x'.repeat(MAX_FIELD_BYTES) })).toThrow(`field note: ${MAX_FIELD_BYTES + 2} bytes as JSON, more than ${MAX_FIELD_BYTES}`);
    expect(fields({ note: 'x'.repeat(MAX_FIELD_BYTES - 2), route: { stops: 3 }, gone: null })()).toMatchObject({ deviceId: 'car-1' });
    expect(() => readFields('[1]')).toThrow('the body is an array, not { "deviceId": "…", "fields": { "status": "free" } }');
    expect(() => readGeometry('[1]', true)).toThrow('expected a GeoJSON object, got an array');
    expect(() => readGeometry('{"coordinates":[]}', false)).toThrow('a GeoJSON object has a "type"');
  });
});
