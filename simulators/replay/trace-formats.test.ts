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

  it('counts bad rows and keeps going', () => {
    const t = parseTrace('lon,lat,time\n7.4,43.7,1000\nx,43.7,1001\n7.5,43.8,1002\n');
    expect(t.records.length).toBe(2);
    expect(t.bad).toBe(1);
    expect(t.badSamples[0]).toMatch(/^line 3/);
  });
});
