import { describe, expect, it } from 'vitest';
import { KernelParamError } from './kernel-error.ts';
import { parseKernelSchema, type KernelSchema } from './kernel-schema.ts';
import { checkParams, encodeParams, paramProblems } from './params.ts';

const SCHEMA: KernelSchema = parseKernelSchema(
  JSON.stringify({
    name: 'k',
    params: [
      { name: 'limit', type: 'number', default: 30, min: 0, exclusiveMin: true },
      { name: 'count', type: 'integer', min: 1, max: 10 },
      { name: 'strict', type: 'boolean', default: false },
      { name: 'unit', type: 'enum', values: ['m/s', 'km/h'], default: 'm/s' },
      { name: 'label', type: 'string' },
      { name: 'detect', type: 'array', items: { type: 'enum', values: ['enter', 'exit'] }, default: ['enter'] },
      { name: 'tags', type: 'array', items: { type: 'string' } },
      { name: 'fences', type: 'fences', required: true },
    ],
    output: [{ name: 'row', type: 'row' }],
    counters: ['skipped', 'lostRows'],
  }),
);

describe('params against a kernel schema', () => {
  it('names an unknown param with the closest known one, or with every one', () => {
    expect(paramProblems(SCHEMA, { fences: {}, limt: 3, zzz: 1 })).toEqual([
      { path: ['limt'], reason: 'unknown param (did you mean "limit"?)', at: 'key' },
      { path: ['zzz'], reason: 'unknown param (k takes limit, count, strict, unit, label, detect, tags, fences)', at: 'key' },
    ]);
  });

  it('takes booleans, numbers, enums, strings and lists only as what they are, in range', () => {
    expect(paramProblems(SCHEMA, { fences: {}, limit: '30', count: 2.5, strict: 1, unit: 'kmh', label: 7, detect: ['enter', 'exti'], tags: 'a' })).toEqual([
      { path: ['limit'], reason: 'expected a number, got string "30"', at: 'value' },
      { path: ['count'], reason: 'expected a whole number, got 2.5', at: 'value' },
      { path: ['strict'], reason: 'expected true or false, got number 1', at: 'value' },
      { path: ['unit'], reason: 'expected one of "m/s", "km/h", got string "kmh" (did you mean "km/h"?)', at: 'value' },
      { path: ['label'], reason: 'expected a string, got number 7', at: 'value' },
      { path: ['detect', 1], reason: 'expected one of "enter", "exit", got string "exti" (did you mean "exit"?)', at: 'value' },
      { path: ['tags'], reason: 'expected a list, got string "a"', at: 'value' },
    ]);
    // as a command line's Number() gives them: named as they are, not as JSON's "null"
    expect(paramProblems(SCHEMA, { fences: {}, limit: Number.NaN, count: Infinity })).toEqual([
      { path: ['limit'], reason: 'expected a number, got NaN', at: 'value' },
      { path: ['count'], reason: 'expected a number, got Infinity', at: 'value' },
    ]);
    expect(paramProblems(SCHEMA, { fences: {}, limit: 0, count: 11 }).map((p) => p.reason)).toEqual(['must be more than 0', 'must be at most 10']);
    expect(paramProblems(SCHEMA, {})).toEqual([{ path: ['fences'], reason: 'required param is missing' }]);
    // spelt wrong, a required param is one problem, at the misspelling (the loader names the first in the file,
    // and "missing" is placed at the params map, before it)
    expect(paramProblems(SCHEMA, { fence: {} })).toEqual([{ path: ['fence'], reason: 'unknown param (did you mean "fences"?)', at: 'key' }]);
  });

  it('fills in defaults, and throws one error naming every problem', () => {
    expect(checkParams(SCHEMA, { fences: { type: 'FeatureCollection' } })).toEqual({ limit: 30, strict: false, unit: 'm/s', detect: ['enter'], fences: { type: 'FeatureCollection' } });
    const err = (() => {
      try {
        checkParams(SCHEMA, { limt: 3 });
      } catch (e) {
        return e as KernelParamError;
      }
    })();
    expect(err).toBeInstanceOf(KernelParamError);
    expect(err!.message).toBe('kernel k: params.limt: unknown param (did you mean "limit"?); params.fences: required param is missing');
  });

  it('encodes an 8-byte slot per param in schema order, the rest after, with addresses to relocate', () => {
    const values = checkParams(SCHEMA, { limit: 12.5, count: 3, strict: true, unit: 'km/h', label: 'héllo', detect: ['exit', 'enter'], tags: ['a', 'bc'], fences: {} });
    const fences = Uint8Array.of(1, 2, 3);
    const { bytes, pointers } = encodeParams(SCHEMA, values, { fences });
    // as the instance sees it, loaded at address 4096
    const base = 4096;
    const mem = new Uint8Array(base + bytes.length);
    mem.set(bytes, base);
    const v = new DataView(mem.buffer);
    for (const at of pointers) v.setUint32(base + at, v.getUint32(base + at, true) + base, true);
    const slot = (i: number) => base + i * 8;
    const utf8 = (ptr: number, len: number) => new TextDecoder().decode(mem.subarray(ptr, ptr + len));
    expect(v.getFloat64(slot(0), true)).toBe(12.5);
    expect(v.getFloat64(slot(1), true)).toBe(3);
    expect(v.getUint32(slot(2), true)).toBe(1);
    expect(v.getUint32(slot(3), true)).toBe(1); // km/h: the enum's second value
    const [labelAt, labelLen] = [v.getUint32(slot(4), true), v.getUint32(slot(4) + 4, true)];
    expect(utf8(labelAt, labelLen)).toBe('héllo');
    expect(mem[labelAt + labelLen]).toBe(0); // NUL-terminated, for C
    const [detectAt, detectN] = [v.getUint32(slot(5), true), v.getUint32(slot(5) + 4, true)];
    expect([detectN, v.getUint32(detectAt, true), v.getUint32(detectAt + 8, true)]).toEqual([2, 1, 0]);
    const [tagsAt, tagsN] = [v.getUint32(slot(6), true), v.getUint32(slot(6) + 4, true)];
    expect(Array.from({ length: tagsN }, (_, j) => utf8(v.getUint32(tagsAt + j * 8, true), v.getUint32(tagsAt + j * 8 + 4, true)))).toEqual(['a', 'bc']);
    const [fencesAt, fencesLen] = [v.getUint32(slot(7), true), v.getUint32(slot(7) + 4, true)];
    expect([...mem.subarray(fencesAt, fencesAt + fencesLen)]).toEqual([1, 2, 3]);
    expect(fencesAt % 8).toBe(0); // data is 8-byte aligned: it holds f64s
    // a number without a value or default arrives as NaN
    expect(Number.isNaN(new DataView(encodeParams(SCHEMA, checkParams(SCHEMA, { fences: {} }), { fences }).bytes.buffer).getFloat64(8, true))).toBe(true);
  });
});

describe('a kernel schema', () => {
  it('is refused when it describes itself wrongly', () => {
    const base = { name: 'x', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
    expect(() => parseKernelSchema('{')).toThrow(/^kernel schema is not JSON/);
    expect(() => parseKernelSchema(JSON.stringify({ ...base, counters: ['skipped'] }))).toThrow('kernel schema of "x": counters must include "lostRows"');
    expect(() => parseKernelSchema(JSON.stringify({ ...base, output: [{ name: 'a', type: 'f16' }] }))).toThrow(/^kernel schema\.output\[0\]\.type: /);
    expect(() => parseKernelSchema(JSON.stringify({ ...base, output: [{ name: 'f', type: 'fence' }] }))).toThrow('kernel schema of "x": field "f" names a fence, but no param is of type fences');
  });

  it('says what is wrong where, in the words zod said it before the checks were written out', () => {
    const base = { name: 'x', params: [], output: [{ name: 'row', type: 'row' }], counters: ['skipped', 'lostRows'] };
    const p = { name: 'p', type: 'number' };
    const refusal = (schema: unknown) => () => parseKernelSchema(JSON.stringify(schema));
    expect(refusal([])).toThrow(/^kernel schema: Invalid input: expected object, received array$/);
    expect(refusal({ ...base, name: '' })).toThrow(/^kernel schema\.name: Too small: expected string to have >=1 characters$/);
    expect(refusal({ ...base, foo: 1, bar: 2 })).toThrow(/^kernel schema: Unrecognized keys: "foo", "bar"$/);
    // the keys it knows first, in their order, then those it does not
    expect(refusal({ foo: 1, ...base, name: 2 })).toThrow(/^kernel schema\.name: Invalid input: expected string, received number$/);
    expect(refusal({ ...base, params: [p, { name: 'q', type: 'x' }] })).toThrow(/^kernel schema\.params\[1\]\.type: Invalid option: expected one of "number"\|"integer"\|"boolean"\|"enum"\|"string"\|"array"\|"fences"\|"roads"$/);
    expect(refusal({ ...base, params: [{ ...p, values: ['a', 1] }] })).toThrow(/^kernel schema\.params\[0\]\.values\[1\]: Invalid input: expected string, received number$/);
    expect(refusal({ ...base, params: [{ ...p, max: null }] })).toThrow(/^kernel schema\.params\[0\]\.max: Invalid input: expected number, received null$/);
    expect(() => parseKernelSchema(JSON.stringify({ ...base, params: [p] }).replace('"number"}', '"number","min":1e999}'))).toThrow(/^kernel schema\.params\[0\]\.min: Invalid input: expected number, received Infinity$/);
    expect(refusal({ ...base, params: [{ ...p, type: 'array', items: { type: 'number', x: 1 } }] })).toThrow(/^kernel schema\.params\[0\]\.items: Unrecognized key: "x"$/);
    expect(refusal({ ...base, output: undefined })).toThrow(/^kernel schema\.output: Invalid input: expected nonoptional, received undefined$/);
    expect(refusal({ ...base, output: [] })).toThrow(/^kernel schema\.output: Too small: expected array to have >=1 items$/);
    expect(refusal({ ...base, counters: undefined })).toThrow(/^kernel schema\.counters: Invalid input: expected array, received undefined$/);
    // what it accepts comes back with its keys in the schema's order, anything as a default
    const ok = parseKernelSchema(JSON.stringify({ counters: base.counters, output: 'json-lines', params: [{ type: 'number', default: { a: [1] }, name: 'p' }], name: 'x' }));
    expect(JSON.stringify(ok)).toBe(JSON.stringify({ name: 'x', params: [{ name: 'p', type: 'number', default: { a: [1] } }], output: 'json-lines', counters: base.counters }));
  });
});
