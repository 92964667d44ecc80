import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseTrace } from './trace-formats.ts';

const DATA = '../shared/data';
const read = (p: string) => parseTrace(readFileSync(`${DATA}/${p}`, 'utf8'), p);

describe('trace formats', () => {
  it('reads the Newson & Krumm Seattle drive', () => {
    const t = read('traces/seattle-newson-krumm-gps.txt');
    expect(t.format).toBe('newson-krumm');
    expect(t.records.length).toBe(7531);
    expect(t.bad).toBe(0);
    expect(t.records[0]).toMatchObject({ t: Date.parse('2009-01-17T20:27:37Z'), lat: 47.66748333, lon: -122.1070833 });
  });

  it('reads the Kubička track, the Liverpool bus CSV and GeoLife', () => {
    expect(read('mapmatch-kubicka/00000000.track')).toMatchObject({ format: 'kubicka-track', bad: 0 });
    expect(read('mapmatch-kubicka/00000000.track').records.length).toBe(2503);
    const bus = read('traces/liverpool-bus-route14-outbound.csv');
    expect(bus).toMatchObject({ format: 'csv', bad: 0 });
    expect(bus.records.length).toBe(1533);
    expect(bus.records[0]).toMatchObject({ deviceId: '4716', lat: 53.44451, lon: -2.925173, t: Date.parse('2026-01-26T15:57:02Z') });
    const geolife = read('traces/geolife-small.csv');
    expect(geolife).toMatchObject({ format: 'csv;', bad: 0 });
    expect(geolife.records.length).toBe(5908);
    expect(geolife.records[0]).toMatchObject({ lon: 116.391305, lat: 39.898573, t: Date.parse('2008-12-11T04:42:14Z') });
  });

  it('reads speed, heading and accuracy columns of a CSV (what geoflux sim writes), when a row has them', () => {
    const t = parseTrace('deviceId,time,lon,lat,speed,heading,accuracy\nveh-1,1000,7.4,43.7,14.17,194.4,5\nveh-1,2000,7.41,43.7,,,\n');
    expect(t.records).toEqual([
      { deviceId: 'veh-1', t: 1_000_000, lon: 7.4, lat: 43.7, speed: 14.17, heading: 194.4, accuracy: 5 },
      { deviceId: 'veh-1', t: 2_000_000, lon: 7.41, lat: 43.7 },
    ]);
  });

  it('counts bad rows and keeps going', () => {
    const t = parseTrace('lon,lat,time\n7.4,43.7,1000\nx,43.7,1001\n7.5,43.8,1002\n');
    expect(t.records.length).toBe(2);
    expect(t.bad).toBe(1);
    expect(t.badSamples[0]).toMatch(/^line 3/);
  });

  it('counts a fix that write() would refuse as a bad row, so a replay to a zipper does not end there', () => {
    const t = parseTrace('lon,lat,time,speed\n7.4,43.7,1000,5\n7.4,95,1001,5\n7.5,43.8,1002,2000000\n7.5,43.8,1003,6\n');
    expect(t.records.map((r) => r.t)).toEqual([1000_000, 1003_000]);
    expect(t.bad).toBe(2);
    expect(t.badSamples).toEqual([expect.stringMatching(/^line 3: lat must be a number in \[-90, 90\] \(got 95\)/), expect.stringMatching(/^line 4: speed must be at most 514\.4 m\/s/)]);
    const gpx = parseTrace('<gpx><trk><trkseg><trkpt lat="95" lon="7.4"><time>2024-01-01T00:00:00Z</time></trkpt><trkpt lat="43.7" lon="7.4"><time>2024-01-01T00:00:01Z</time></trkpt></trkseg></trk></gpx>');
    expect([gpx.records.length, gpx.bad]).toEqual([1, 1]);
  });
});

describe('GPX', () => {
  it('reads track points, one device per named track, and counts broken points', () => {
    const gpx = `<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>bus-14</name><trkseg>
    <trkpt lat="53.4445" lon="-2.9251"><ele>12</ele><time>2026-01-26T15:57:02Z</time></trkpt>
    <trkpt lon="-2.9250" lat="53.4446"><time>2026-01-26T15:57:07Z</time><speed>4.5</speed></trkpt>
    <trkpt lat="53.4447" lon="-2.9249"></trkpt>
  </trkseg></trk>
  <trk><trkseg><trkpt lat="53.40" lon="-2.90"><time>2026-01-26T16:00:00Z</time></trkpt></trkseg></trk>
</gpx>`;
    const t = parseTrace(gpx, 'liverpool');
    expect(t.format).toBe('gpx');
    expect(t.records).toEqual([
      { deviceId: 'bus-14', t: Date.parse('2026-01-26T15:57:02Z'), lon: -2.9251, lat: 53.4445 },
      { deviceId: 'bus-14', t: Date.parse('2026-01-26T15:57:07Z'), lon: -2.925, lat: 53.4446, speed: 4.5 },
      { deviceId: 'liverpool', t: Date.parse('2026-01-26T16:00:00Z'), lon: -2.9, lat: 53.4 },
    ]);
    expect(t.bad).toBe(1);
    expect(t.badSamples[0]).toBe('line 6: a point without <time>');
  });
});

describe('JSON lines', () => {
  it('reads fixes as geoflux sim writes them, counting lines that are not JSON', () => {
    const t = parseTrace('{"deviceId":"veh-1","t":1000,"lon":7.4,"lat":43.7,"speed":3}\n{"deviceId":"veh-2","time":"2026-01-01T00:00:01Z","lon":7.5,"lat":43.8}\n{oops\n');
    expect(t.format).toBe('jsonl');
    expect(t.records).toEqual([
      { deviceId: 'veh-1', t: 1000, lon: 7.4, lat: 43.7, speed: 3 },
      { deviceId: 'veh-2', time: '2026-01-01T00:00:01Z', t: Date.parse('2026-01-01T00:00:01Z'), lon: 7.5, lat: 43.8 },
    ]);
    expect(t.badSamples).toEqual(['line 3: not JSON']);
  });
});
