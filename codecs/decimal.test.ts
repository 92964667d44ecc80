import { describe, expect, it } from 'vitest';
import { readDecimal } from './decimal.ts';

describe('readDecimal', () => {
  it('reads what devices and query strings write', () => {
    expect(['-7.42', '43.7', '+1', '.5', '5.', '1e3', '2.5E-2', '0'].map(readDecimal)).toEqual([-7.42, 43.7, 1, 0.5, 5, 1000, 0.025, 0]);
  });

  it('refuses what Number() would also take: hex, binary, Infinity, blanks', () => {
    for (const s of ['0x2b', '0b1', '0o7', 'Infinity', '-Infinity', ' 1', '1 ', '', '.', 'e3', '1e', '1,5', 'NaN']) expect(readDecimal(s), s).toBeNaN();
  });
});
