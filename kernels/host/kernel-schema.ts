import { pathText } from '../../codecs/path-text.ts';
import { array, atLeast, boolean, checked, checkShape, number, object, oneOf, optional, present, string, unknown, type Check, type Path } from '../../codecs/shape-check.ts';
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

const named = checked(string, atLeast(1));
const values = optional(checked(array(string), atLeast(1)));
const paramSpec = object({
  name: named,
  type: oneOf(PARAM_TYPES),
  doc: optional(string),
  default: optional(unknown),
  required: optional(boolean),
  min: optional(number),
  max: optional(number),
  exclusiveMin: optional(boolean),
  values,
  items: optional(object({ type: oneOf(ITEM_TYPES), values })),
});
const fieldSpecs = checked(array(object({ name: named, type: oneOf(FIELD_TYPES), doc: optional(string), values })), atLeast(1));
// "json-lines" or fields: checked apart, so a bad field is named rather than the union
const kernelSchema = object({ name: named, doc: optional(string), params: array(paramSpec), output: present, counters: array(named) });

/** what `check` makes of `v`, or the first thing wrong with it, in zod's words (which kernels' authors saw before) */
function shaped<T>(check: Check<T>, v: unknown, at: Path = []): T {
  const { value, issues } = checkShape(check, v, at);
  if (issues.length) throw new KernelError(`kernel schema${pathText(issues[0].path)}: ${issues[0].message}`);
  return value;
}

/** The schema a kernel exported, checked; a kernel that describes itself wrongly is refused, with the reason. */
export function parseKernelSchema(json: string): KernelSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new KernelError(`kernel schema is not JSON: ${(e as Error).message}`);
  }
  const head = shaped(kernelSchema, raw);
  const s: KernelSchema = { ...head, output: head.output === 'json-lines' ? 'json-lines' : shaped(fieldSpecs, head.output, ['output']) };
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
