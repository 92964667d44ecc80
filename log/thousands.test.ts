import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { thousands } from './thousands.ts';

describe('thousands', () => {
  it('writes integers as toLocaleString("en") does', () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => thousands(n) === n.toLocaleString('en')));
  });

  it('writes fractions as toLocaleString("en") does, to the digits asked', () => {
    const cases: [number, number | undefined, string][] = [
      [1234.5678, undefined, '1,234.568'],
      [0.5, 1, '0.5'],
      [12.04, 1, '12'],
      [999.96, 1, '1,000'],
      [-1234.25, 1, '-1,234.3'],
      [-0.04, 1, '-0'],
      [1e21, 0, '1,000,000,000,000,000,000,000'],
    ];
    for (const [n, digits, line] of cases) {
      expect(thousands(n, digits)).toBe(line);
      expect(n.toLocaleString('en', { maximumFractionDigits: digits ?? 3 })).toBe(line);
    }
  });

  it('leaves NaN and infinities as they are', () => {
    expect([NaN, Infinity, -Infinity].map((n) => thousands(n))).toEqual(['NaN', 'Infinity', '-Infinity']);
  });
});
