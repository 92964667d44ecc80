import { describe, expect, it } from 'vitest';
import { decodeOwntracks } from '../owntracks/owntracks-decode.ts';
import { KNOT } from '../../codecs/fix-checks.ts';
import { decodeJson, decodeQuery, osmandTime } from './osmand-decode.ts';

const query = (q: string) => decodeQuery(new URLSearchParams(q), 1_700_000_000_000);

describe('reading what Traccar Client and OsmAnd send', () => {
  it('reads a numeric timestamp as seconds below 1e12 and as ms from there: 11 and 12 digits are seconds, not 1970s ms', () => {
    expect(osmandTime('1504763810')).toBe(1504763810_000);
    expect(osmandTime('1442068686579')).toBe(1442068686579);
    // Traccar's rule (seconds below 2^31) made this 1973-03-03 as ms; as seconds it is the year 5138, which the time window refuses
    expect(osmandTime('99999999999')).toBe(99999999999_000);
    expect(osmandTime('1')).toBe(1000);
  });

  it('refuses a speed, bearing or accuracy that is not a number, naming it, rather than taking it as unknown', () => {
    expect(query('id=a&lat=1&lon=2&speed=fast')).toEqual({ error: 'speed "fast" is not a number' });
    expect(query('id=a&lat=1&lon=2&heading=north')).toEqual({ error: 'heading "north" is not a number' });
    expect(query('id=a&lat=1&lon=2&accuracy=NaN')).toEqual({ error: 'accuracy "NaN" is not a number' });
    expect(query('id=a&lat=x&lon=2')).toEqual({ error: 'lat "x" is not a number' });
    expect(query('id=a&lat=0x2b&lon=2')).toEqual({ error: 'lat "0x2b" is not a number' });
    expect(query('id=a&lat=1&lon=2&speed=10&bearing=90')).toEqual({ fix: { deviceId: 'a', t: 1_700_000_000_000, lon: 2, lat: 1, speed: expect.closeTo(5.144, 3), heading: 90 } });
  });

  it('refuses a JSON body or payload that is not one object, in both JSON decoders alike', () => {
    for (const text of ['[1]', 'null', '3', '"x"']) {
      expect(decodeJson(text)).toEqual({ error: 'the body is not a JSON object' });
      expect(decodeOwntracks(text, 'anna/pixel')).toEqual({ error: 'the payload is not a JSON object' });
    }
    expect(decodeJson('{"device_id":')).toEqual({ error: 'the body is not JSON' });
    expect(decodeOwntracks('{', 'anna/pixel')).toEqual({ error: 'the payload is not JSON' });
  });

  it('refuses a parameter given twice with different values as ambiguous, under either of its names', () => {
    expect(query('id=a&deviceid=b&lat=1&lon=2')).toEqual({ error: 'ambiguous: id="a", deviceid="b"; send one' });
    expect(query('id=a&lat=1&lat=3&lon=2')).toEqual({ error: 'ambiguous: lat="1", lat="3"; send one' });
    expect(query('id=a&id=a&lat=1&lon=2')).toMatchObject({ fix: { deviceId: 'a' } });
  });

  it('reads -1, and only -1, as an unknown speed, course or accuracy, before converting units', () => {
    expect(query('id=a&lat=1&lon=2&speed=-1&bearing=-1&accuracy=-1')).toEqual({ fix: { deviceId: 'a', t: 1_700_000_000_000, lon: 2, lat: 1 } });
    expect(query('id=a&lat=1&lon=2&speed=-5')).toMatchObject({ fix: { speed: expect.closeTo(-5 * KNOT, 6) } });
    expect(decodeOwntracks('{"_type":"location","lat":1,"lon":2,"tst":1700000000,"vel":-1,"cog":-1,"acc":-1}', 'anna/pixel')).toEqual({ fix: { deviceId: 'anna/pixel', t: 1_700_000_000_000, lon: 2, lat: 1 } });
    expect(osmandTime('-100')).toBeNaN();
    expect(osmandTime('1e9')).toBeNaN();
  });
});
