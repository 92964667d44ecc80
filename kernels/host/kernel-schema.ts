import { pathText } from '../../codecs/path-text.ts';
import { KernelError } from './kernel-error.ts';

/**
 * What a kernel says about itself (docs/kernel-abi.md, The schema): its params, the fields of its output rows
 * and its counters, read from the JSON it exports. The host validates params, encodes the params block and
 * decodes rows from this alone, for built-in and custom kernels alike.
 */

export const PARAM_TYPES = ['number', 'integer', 'boolean', 'enum', 'string', 'array', 'fences', 'roads'] as const;
export const ITEM_TYPES = ['number', 'integer', 'boolean', 'enum', 'string'] as const;
export const FIELD_TYPES = ['f64', 'f32', 'i32', 'u32', 'time', 'enum', 'device', 'row', 'fence'] as const;

export type ParamType = (typeof PARAM_TYPES)[number];
type ItemType = (typeof ITEM_TYPES)[number];
export type FieldType = (typeof FIELD_TYPES)[number];

export interface ParamSpec {
  name: string;
  type: ParamType;
  doc?: string;
  default?: unknown;
  required?: boolean;
  min?: number;
  max?: number;
  exclusiveMin?: boolean;
  values?: string[];
  items?: { type: ItemType; values?: string[] };
}

export interface FieldSpec {
  name: string;
  type: FieldType;
  doc?: string;
  values?: string[];
}

export interface KernelSchema {
  name: string;
  doc?: string;
  params: ParamSpec[];
  output: 'json-lines' | FieldSpec[];
  counters: string[];
}

/** counters every kernel keeps */
export const REQUIRED_COUNTERS = ['skipped', 'lostRows'] as const;

/** bytes a field takes in each row */
export const fieldWidth = (t: FieldType): 4 | 8 => (t === 'f64' || t === 'time' ? 8 : 4);

// The checks below are written out rather than made with zod, with zod's messages (which kernels' authors
// saw before): every kernel host thread reads a schema, and zod alone was ~3 MB of heap in each of them.
type Path = (string | number)[];
type Check<T> = (v: unknown, at: Path) => T;

const refused = (at: Path, message: string) => new KernelError(`kernel schema${pathText(at)}: ${message}`);
const received = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v);
const expected = (what: string, v: unknown, at: Path) => refused(at, `Invalid input: expected ${what}, received ${received(v)}`);

const string =
  (min = 0): Check<string> =>
  (v, at) => {
    if (typeof v !== 'string') throw expected('string', v, at);
    if (v.length < min) throw refused(at, `Too small: expected string to have >=${min} characters`);
    return v;
  };
const number: Check<number> = (v, at) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw expected('number', v, at);
  return v;
};
const boolean: Check<boolean> = (v, at) => {
  if (typeof v !== 'boolean') throw expected('boolean', v, at);
  return v;
};
const present: Check<unknown> = (v, at) => {
  if (v === undefined) throw expected('nonoptional', v, at);
  return v;
};
const oneOf =
  <T extends string>(options: readonly T[]): Check<T> =>
  (v, at) => {
    if (!options.includes(v as T)) throw refused(at, `Invalid option: expected one of ${options.map((o) => `"${o}"`).join('|')}`);
    return v as T;
  };
const array =
  <T>(item: Check<T>, min = 0): Check<T[]> =>
  (v, at) => {
    if (!Array.isArray(v)) throw expected('array', v, at);
    const out = v.map((x, i) => item(x, [...at, i]));
    if (out.length < min) throw refused(at, `Too small: expected array to have >=${min} items`);
    return out;
  };

interface Key {
  check: Check<unknown>;
  optional?: boolean;
}
const optional = (check: Check<unknown>): Key => ({ check, optional: true });

/** an object with these keys and no others; the result has them in this order */
function exactly<T>(shape: Record<string, Check<unknown> | Key>): Check<T> {
  const keys = Object.entries(shape).map(([name, k]) => [name, typeof k === 'function' ? { check: k } : k] as const);
  return (v, at) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw expected('object', v, at);
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [name, k] of keys) if (Object.hasOwn(o, name) || !k.optional) out[name] = k.check(o[name], [...at, name]);
    const others = Object.keys(o).filter((name) => !Object.hasOwn(shape, name));
    if (others.length) throw refused(at, `Unrecognized key${others.length > 1 ? 's' : ''}: ${others.map((name) => `"${name}"`).join(', ')}`);
    return out as T;
  };
}

const values = optional(array(string(), 1));
const paramSpec = exactly<ParamSpec>({
  name: string(1),
  type: oneOf(PARAM_TYPES),
  doc: optional(string()),
  default: optional((v) => v),
  required: optional(boolean),
  min: optional(number),
  max: optional(number),
  exclusiveMin: optional(boolean),
  values,
  items: optional(exactly({ type: oneOf(ITEM_TYPES), values })),
});
const fieldSpecs = array(exactly<FieldSpec>({ name: string(1), type: oneOf(FIELD_TYPES), doc: optional(string()), values }), 1);
// "json-lines" or fields: checked apart, so a bad field is named rather than the union
const kernelSchema = exactly<Omit<KernelSchema, 'output'> & { output: unknown }>({ name: string(1), doc: optional(string()), params: array(paramSpec), output: present, counters: array(string(1)) });

/** The schema a kernel exported, checked; a kernel that describes itself wrongly is refused, with the reason. */
export function parseKernelSchema(json: string): KernelSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new KernelError(`kernel schema is not JSON: ${(e as Error).message}`);
  }
  const head = kernelSchema(raw, []);
  const s: KernelSchema = { ...head, output: head.output === 'json-lines' ? 'json-lines' : fieldSpecs(head.output, ['output']) };
  const bad = (what: string) => new KernelError(`kernel schema of "${s.name}": ${what}`);
  for (const c of REQUIRED_COUNTERS) if (!s.counters.includes(c)) throw bad(`counters must include "${c}"`);
  const names = new Set<string>();
  for (const p of s.params) {
    if (names.has(p.name)) throw bad(`param "${p.name}" is declared twice`);
    names.add(p.name);
    if (p.type === 'enum' && !p.values) throw bad(`enum param "${p.name}" needs values`);
    if (p.type === 'array' && !p.items) throw bad(`array param "${p.name}" needs items`);
    if (p.items?.type === 'enum' && !p.items.values) throw bad(`param "${p.name}": enum items need values`);
  }
  if (s.output !== 'json-lines') {
    const fields = new Set<string>();
    for (const f of s.output) {
      if (fields.has(f.name)) throw bad(`output field "${f.name}" is declared twice`);
      fields.add(f.name);
      if (f.type === 'enum' && !f.values) throw bad(`enum field "${f.name}" needs values`);
      if (f.type === 'fence' && !s.params.some((p) => p.type === 'fences')) throw bad(`field "${f.name}" names a fence, but no param is of type fences`);
    }
  }
  return s;
}
