import { closest, describeValue as describe, didYouMean, expectedOneOf } from '../../workflows/errors.ts';
import { KernelParamError, type ParamProblem } from './kernel-error.ts';
import type { KernelSchema, ParamSpec } from './kernel-schema.ts';

/**
 * A kernel's params against its schema (docs/kernel-abi.md, Params): checked before init, each problem named
 * by its path, then encoded as the params block the kernel reads by slot.
 */

export type ParamValues = Record<string, unknown>;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why `v` is no value of a param or item of this type and range, or undefined when it is one. */
function valueProblem(spec: Pick<ParamSpec, 'type' | 'values' | 'min' | 'max' | 'exclusiveMin'>, v: unknown): string | undefined {
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `expected a number, got ${describe(v)}`;
      if (spec.type === 'integer' && !Number.isInteger(v)) return `expected a whole number, got ${v}`;
      if (spec.min !== undefined && (spec.exclusiveMin ? !(v > spec.min) : !(v >= spec.min))) return `must be ${spec.exclusiveMin ? 'more than' : 'at least'} ${spec.min}`;
      if (spec.max !== undefined && !(v <= spec.max)) return `must be at most ${spec.max}`;
      return undefined;
    }
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `expected true or false, got ${describe(v)}`;
    case 'string':
      return typeof v === 'string' ? undefined : `expected a string, got ${describe(v)}`;
    case 'enum': {
      const vs = spec.values ?? [];
      if (typeof v === 'string' && vs.includes(v)) return undefined;
      return expectedOneOf(vs, v);
    }
    case 'fences':
      return (typeof v === 'string' && v.length > 0) || isMap(v) ? undefined : `expected a fence file (GeoJSON, OSM PBF) or GeoJSON, got ${describe(v)}`;
    case 'roads':
      return (typeof v === 'string' && v.length > 0) || (isMap(v) && 'graph' in v) ? undefined : `expected a road network file (OSM PBF, Kubička) or a loaded graph, got ${describe(v)}`;
    default:
      return undefined;
  }
}

/** Every way `params` breaks the schema: unknown names (with a did-you-mean), types, ranges, missing required params. */
export function paramProblems(schema: KernelSchema, params: unknown): ParamProblem[] {
  if (!isMap(params)) return [{ path: [], reason: `expected a map of params, got ${describe(params)}` }];
  const problems: ParamProblem[] = [];
  const names = schema.params.map((p) => p.name);
  // a required param spelt wrong is one problem, said at the misspelling: the loader names the first problem
  // in the file, and "missing" (placed at the params map) came before the did-you-mean
  const meant = new Set<string>();
  for (const key of Object.keys(params)) {
    if (names.includes(key)) continue;
    const near = closest(key, names);
    if (near) meant.add(near);
    const takes = names.length ? `${schema.name} takes ${names.join(', ')}` : `${schema.name} takes no params`;
    problems.push({ path: [key], reason: `unknown param${didYouMean(key, names) || ` (${takes})`}`, at: 'key' });
  }
  for (const p of schema.params) {
    const v = params[p.name];
    if (v === undefined) {
      if (p.required && !meant.has(p.name)) problems.push({ path: [p.name], reason: `required param is missing${p.doc ? ` (${p.doc})` : ''}` });
      continue;
    }
    if (p.type !== 'array') {
      const why = valueProblem(p, v);
      if (why) problems.push({ path: [p.name], reason: why, at: 'value' });
      continue;
    }
    if (!Array.isArray(v)) {
      problems.push({ path: [p.name], reason: `expected a list, got ${describe(v)}`, at: 'value' });
      continue;
    }
    v.forEach((x, i) => {
      const why = valueProblem({ ...p, ...p.items! }, x);
      if (why) problems.push({ path: [p.name, i], reason: why, at: 'value' });
    });
  }
  return problems;
}

/** The params with the schema's defaults filled in; throws KernelParamError naming every problem. */
export function checkParams(schema: KernelSchema, params: unknown): ParamValues {
  const problems = paramProblems(schema, params);
  if (problems.length) throw new KernelParamError(schema.name, problems);
  const given = params as ParamValues;
  const values: ParamValues = {};
  for (const p of schema.params) {
    const v = given[p.name] ?? p.default;
    if (v !== undefined) values[p.name] = v;
  }
  return values;
}

/**
 * A params block, built once per kernel and copied into each instance: the bytes with addresses relative to
 * the block's start, and where those addresses are, to add the block's address to in the instance.
 */
export interface ParamsBlock {
  bytes: Uint8Array;
  pointers: number[];
}

const NONE = 0xffffffff;
const utf8 = new TextEncoder();
const align8 = (x: number) => (x + 7) & ~7;

/** Encodes checked values, slot by slot; `data` holds the bytes of each fences and roads param. */
export function encodeParams(schema: KernelSchema, values: ParamValues, data: Record<string, Uint8Array>): ParamsBlock {
  const tail: { at: number; bytes: Uint8Array }[] = [];
  const pointers: number[] = [];
  let size = schema.params.length * 8;
  const place = (bytes: Uint8Array): number => {
    const at = (size = align8(size));
    tail.push({ at, bytes });
    size += bytes.length;
    return at;
  };
  const slots = new DataView(new ArrayBuffer(size));
  // a (pointer, length) pair whose pointer is relocated per instance
  const pair = (view: DataView, viewAt: number, slotAt: number, ptr: number, len: number) => {
    view.setUint32(viewAt, ptr, true);
    view.setUint32(viewAt + 4, len, true);
    pointers.push(slotAt);
  };
  const string = (s: string) => {
    const b = utf8.encode(s);
    const z = new Uint8Array(b.length + 1); // NUL after, for C
    z.set(b);
    return { at: place(z), len: b.length };
  };
  schema.params.forEach((p, i) => {
    const v = values[p.name];
    const at = i * 8;
    switch (p.type) {
      case 'number':
      case 'integer':
        slots.setFloat64(at, v === undefined ? NaN : (v as number), true);
        break;
      case 'boolean':
        slots.setUint32(at, v ? 1 : 0, true);
        break;
      case 'enum':
        slots.setUint32(at, v === undefined ? NONE : p.values!.indexOf(v as string), true);
        break;
      case 'string': {
        if (v === undefined) break;
        const s = string(v as string);
        pair(slots, at, at, s.at, s.len);
        break;
      }
      case 'fences':
      case 'roads': {
        const bytes = data[p.name];
        if (bytes) pair(slots, at, at, place(bytes), bytes.length);
        break;
      }
      case 'array': {
        const xs = (v ?? []) as unknown[];
        const items = new DataView(new ArrayBuffer(xs.length * 8));
        const itemsAt = place(new Uint8Array(items.buffer));
        xs.forEach((x, j) => {
          const t = p.items!.type;
          if (t === 'number' || t === 'integer') items.setFloat64(j * 8, x as number, true);
          else if (t === 'boolean') items.setUint32(j * 8, x ? 1 : 0, true);
          else if (t === 'enum') items.setUint32(j * 8, p.items!.values!.indexOf(x as string), true);
          else {
            const s = string(x as string);
            pair(items, j * 8, itemsAt + j * 8, s.at, s.len);
          }
        });
        pair(slots, at, at, itemsAt, xs.length);
        break;
      }
    }
  });
  const bytes = new Uint8Array(align8(size));
  bytes.set(new Uint8Array(slots.buffer));
  for (const t of tail) bytes.set(t.bytes, t.at);
  return { bytes, pointers };
}
