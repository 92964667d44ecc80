import { describe, expect, it } from 'vitest';
import { rounded } from './precision.ts';

describe('rounded', () => {
  it('writes each measured field to what it can mean, the rest as given', () => {
    expect(rounded({ deviceId: 'v', t: 1733561234567, lon: 7.42345678912, lat: -43.123456749, speed: 12.3456, heading: 181.26, accuracy: 4.999 })).toEqual({ deviceId: 'v', t: 1733561234567, lon: 7.4234568, lat: -43.1234567, speed: 12.35, heading: 181.3, accuracy: 5 });
  });

  it('writes a heading just short of north as 0, not 360', () => {
    expect(rounded({ heading: 359.96 }).heading).toBe(0);
    expect(rounded({ heading: 359.94 }).heading).toBe(359.9);
  });
});
