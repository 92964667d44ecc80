import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { aboveZero, array, atLeast, atMost, boolean, checked, checkShape, fieldsAt, int, matches, number, object, oneOf, optional, preprocess, record, string, union, unknown, withDefault, type Check } from './shape-check.ts';

// zod is still a dependency (a traffic scenario's checks): each check is held to what zod says of the same inputs
const port = (v: unknown) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v);
const pairs: [what: string, zod: z.ZodType, ours: Check<unknown>][] = [
  ['string, at least 1', z.string().min(1), checked(string, atLeast(1))],
  ['int in 1..1024', z.number().int().min(1).max(1024), checked(int, atLeast(1), atMost(1024))],
  ['positive number, own message', z.number().positive('must be more than 0'), checked(number, aboveZero('must be more than 0'))],
  ['boolean', z.boolean(), boolean],
  ['regex', z.string().regex(/^[a-z]+$/, 'letters'), checked(string, matches(/^[a-z]+$/, 'letters'))],
  ['enum', z.enum(['local', 'remote']), oneOf(['local', 'remote'])],
  ['list of strings, at least 1', z.array(z.string()).min(1, 'one'), checked(array(string), atLeast(1, 'one'))],
  ['record of ints', z.record(z.string(), z.number().int()), record(int)],
  ['strict object', z.strictObject({ a: z.string(), b: z.number().optional() }), object({ a: string, b: optional(number) })],
  ['loose object', z.looseObject({ a: z.string() }), object({ a: string }, 'kept')],
  ['stripping object', z.object({ a: z.string() }), object({ a: string }, 'dropped')],
  ['default', z.array(z.string()).default([]), withDefault(array(string), () => [])],
  ['union of a literal and an object', z.union([z.literal('balance'), z.strictObject({ partition: z.string().min(1) })]), union(oneOf(['balance']), object({ partition: checked(string, atLeast(1)) }))],
  ['union of a port and false', z.union([z.preprocess(port, z.number().int().min(0).max(65535)), z.literal(false)]), union(preprocess(port, checked(int, atLeast(0), atMost(65535))), oneOf([false]))],
  ['union of literals', z.union([z.literal('3.1.1'), z.literal(5), z.literal('5')]), union(oneOf(['3.1.1']), oneOf([5]), oneOf(['5']))],
  ['unknown', z.unknown(), unknown],
];
const isMap = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
const inputs: unknown[] = [undefined, null, true, 0, -1, 1.5, 5, 70000, 1e20, -1e20, NaN, Infinity, '', 'x', '5', '80', '3.1.1', 'balance', 'local', [], ['x'], [5], {}, { a: 'x' }, { a: 'x', b: 'y' }, { a: 'x', c: 1, d: 2 }, { partition: '' }, { partition: 'x', more: 1 }, { partition: 5 }, { gps: 16, bad: 1.5 }];

/** what a reader is shown: the first issue at each place (see `checked`) */
const firstAtEachPlace = (issues: { code: string; path: PropertyKey[]; message: string }[]) =>
  issues.filter((i, n) => issues.findIndex((j) => j.path.join() === i.path.join()) === n).map(({ code, path, message }) => ({ code, path, message }));

describe('the shape checks say what zod says', () => {
  it.each(pairs)('%s', (name, zod, ours) => {
    for (const v of inputs) {
      // where a map fails a union whose one form is a map, this checker says what is wrong inside it (below)
      if (name === 'union of a literal and an object' && isMap(v)) continue;
      const theirs = zod.safeParse(v);
      const mine = checkShape(ours, v, ['at']);
      expect({ v, said: firstAtEachPlace(mine.issues.map((i) => ({ ...i, path: i.path.slice(1) }))) }).toEqual({ v, said: theirs.success ? [] : firstAtEachPlace(theirs.error.issues) });
      if (theirs.success) expect({ v, made: mine.value }).toEqual({ v, made: theirs.data });
    }
  });
});

describe('a union with one form a map', () => {
  const dispatch = union(oneOf(['balance']), object({ partition: checked(string, atLeast(1)) }));
  it("says what is wrong inside a map it is given, where zod says only 'Invalid input'", () => {
    const said = (v: unknown) => checkShape(dispatch, v, ['d']).issues.map(({ code, path }) => ({ code, path }));
    expect(said({ partiton: 'deviceId' })).toEqual([
      { code: 'invalid_type', path: ['d', 'partition'] },
      { code: 'unrecognized_keys', path: ['d'] },
    ]);
    expect(said({ partition: 5 })).toEqual([{ code: 'invalid_type', path: ['d', 'partition'] }]);
    expect(said('balanse')).toEqual([{ code: 'invalid_union', path: ['d'] }]);
    expect(said(['balance'])).toEqual([{ code: 'invalid_union', path: ['d'] }]);
  });
});

describe('fieldsAt', () => {
  const shape = object({ fns: optional(array(object({ observe: string, dispatch: union(oneOf(['balance']), object({ partition: string })) }))), tags: record(int) });

  it('names the fields of the map at a path, through lists, optionals and the map branch of a union', () => {
    expect(fieldsAt(shape, [])).toEqual(['fns', 'tags']);
    expect(fieldsAt(shape, ['fns', 0])).toEqual(['observe', 'dispatch']);
    expect(fieldsAt(shape, ['fns', 0, 'dispatch'])).toEqual(['partition']);
    expect(fieldsAt(shape, ['tags'])).toEqual([]);
    expect(fieldsAt(shape, ['nope'])).toEqual([]);
  });
});
