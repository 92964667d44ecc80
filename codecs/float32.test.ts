import { expect, it } from 'vitest';
import { readableF32, shortestF32 } from './float32.ts';

it('gives an f32 as the shortest decimal that reads back as the same f32', () => {
  expect(Math.fround(15.66)).toBe(15.65999984741211);
  expect(shortestF32(Math.fround(15.66))).toBe(15.66);
  expect(shortestF32(Math.fround(0.1))).toBe(0.1);
  expect(shortestF32(Math.fround(123456.789))).toBe(123456.79);
});

it('cleans the f32 fractions of a JSON line, and leaves whole numbers (a time in ms) and doubles as they are', () => {
  const t = 1_700_000_000_000;
  expect(JSON.stringify({ speed: Math.fround(15.66), heading: Math.fround(271.3), t, lon: 7.4246, n: [Math.fround(0.2)] }, readableF32)).toBe('{"speed":15.66,"heading":271.3,"t":1700000000000,"lon":7.4246,"n":[0.2]}');
  // f32-exact, and whole: no f32 rounding may move it
  expect(JSON.stringify({ t: 2 ** 40 + 2 ** 20 }, readableF32)).toBe(`{"t":${2 ** 40 + 2 ** 20}}`);
});
