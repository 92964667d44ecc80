import { z } from 'zod';
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
export type FieldType = (typeof FIELD_TYPES)[number];

const values = z.array(z.string()).min(1);
const item = z.strictObject({ type: z.enum(ITEM_TYPES), values: values.optional() });

const paramSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(PARAM_TYPES),
  doc: z.string().optional(),
  default: z.unknown().optional(),
  required: z.boolean().optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  exclusiveMin: z.boolean().optional(),
  values: values.optional(),
  items: item.optional(),
});

const fieldSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(FIELD_TYPES),
  doc: z.string().optional(),
  values: values.optional(),
});

const fieldsSchema = z.array(fieldSchema).min(1);

const kernelSchema = z.strictObject({
  name: z.string().min(1),
  doc: z.string().optional(),
  params: z.array(paramSchema),
  // "json-lines" or fields: checked apart, so a bad field is named rather than the union
  output: z.unknown(),
  counters: z.array(z.string().min(1)),
});

export type ParamSpec = z.infer<typeof paramSchema>;
export type FieldSpec = z.infer<typeof fieldSchema>;
export type KernelSchema = Omit<z.infer<typeof kernelSchema>, 'output'> & { output: 'json-lines' | FieldSpec[] };

/** counters every kernel keeps */
export const REQUIRED_COUNTERS = ['skipped', 'lostRows'] as const;

/** bytes a field takes in each row */
export const fieldWidth = (t: FieldType): 4 | 8 => (t === 'f64' || t === 'time' ? 8 : 4);

/** The schema a kernel exported, checked; a kernel that describes itself wrongly is refused, with the reason. */
export function parseKernelSchema(json: string): KernelSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new KernelError(`kernel schema is not JSON: ${(e as Error).message}`);
  }
  const where = (path: PropertyKey[]) => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const check = <T>(schema: z.ZodType<T>, value: unknown, at: PropertyKey[]): T => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const i = parsed.error.issues[0];
    throw new KernelError(`kernel schema${where([...at, ...i.path])}: ${i.message}`);
  };
  const head = check(kernelSchema, raw, []);
  const s: KernelSchema = { ...head, output: head.output === 'json-lines' ? 'json-lines' : check(fieldsSchema, head.output, ['output']) };
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
