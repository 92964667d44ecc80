/**
 * Checks of the shape of a value read from JSON or YAML, written out rather than made with zod, and saying
 * what zod said, issue for issue (code, path, input, message): zod was ~3 MB of heap in each thread that
 * loaded it (issue #23), for checks this small. A check returns the value it makes and adds what is wrong
 * to `issues`, all of it, as zod's safeParse collected it.
 */

export type Path = (string | number)[];

interface Where {
  path: Path;
  input: unknown;
  message: string;
  /** zod's "aborted": a value is not checked further after it, and a union takes its branch's issues only when none is */
  abort: boolean;
}
type Kind =
  | { code: 'invalid_type'; expected: string }
  | { code: 'invalid_value'; values: readonly unknown[] }
  | { code: 'too_small'; origin: string; minimum: number; inclusive: boolean }
  | { code: 'too_big'; origin: string; maximum: number; inclusive: boolean }
  | { code: 'invalid_format' }
  | { code: 'unrecognized_keys'; keys: string[] }
  | { code: 'invalid_union' };
export type Issue = Where & Kind;

export interface Check<T> {
  (v: unknown, at: Path, issues: Issue[]): T;
  /** what a misspelt key is compared with: an object's fields, and what a list or map holds */
  fields?: Record<string, Check<unknown>>;
  of?: Check<unknown>;
  optional?: true;
}
/** what a check makes */
export type Made<C> = C extends Check<infer T> ? T : never;

const received = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : typeof v);
const quoted = (v: unknown) => (typeof v === 'string' ? `"${v}"` : String(v));

/** zod's own message for an issue (its English locale) */
function zodsWords(k: Kind, input: unknown): string {
  switch (k.code) {
    case 'invalid_type':
      return `Invalid input: expected ${k.expected}, received ${received(input)}`;
    case 'invalid_value':
      return k.values.length === 1 ? `Invalid input: expected ${quoted(k.values[0])}` : `Invalid option: expected one of ${k.values.map(quoted).join('|')}`;
    case 'too_small':
    case 'too_big': {
      const [word, bound, sign] = k.code === 'too_small' ? ['small', k.minimum, '>'] : ['big', k.maximum, '<'];
      const adj = k.inclusive ? `${sign}=` : sign;
      const unit = { string: 'characters', array: 'items' }[k.origin];
      return `Too ${word}: expected ${k.origin} to ${unit ? `have ${adj}${bound} ${unit}` : `be ${adj}${bound}`}`;
    }
    case 'unrecognized_keys':
      return `Unrecognized key${k.keys.length > 1 ? 's' : ''}: ${k.keys.map(quoted).join(', ')}`;
    default:
      return 'Invalid input';
  }
}

const issue = (k: Kind, path: Path, input: unknown, abort: boolean, message?: string): Issue => ({ ...k, path, input, abort, message: message ?? zodsWords(k, input) });

/** a check made from another keeps what the other says of its fields */
const like = <T>(inner: Check<unknown>, check: Check<T>): Check<T> => Object.assign(check, { fields: inner.fields, of: inner.of });

// a value of the wrong type is handed back as it came: with an issue added, what a check made is not used
const refused = (expected: string, v: unknown, at: Path, issues: Issue[]): never => {
  issues.push(issue({ code: 'invalid_type', expected }, at, v, true));
  return v as never;
};

const is =
  <T>(expected: string, test: (v: unknown) => boolean): Check<T> =>
  (v, at, issues) =>
    test(v) ? (v as T) : refused(expected, v, at, issues);

export const string = is<string>('string', (v) => typeof v === 'string');
export const number = is<number>('number', (v) => typeof v === 'number' && Number.isFinite(v));
export const boolean = is<boolean>('boolean', (v) => typeof v === 'boolean');
export const unknown: Check<unknown> = (v) => v;
/** a value that must be there, of any type */
export const present = is<unknown>('nonoptional', (v) => v !== undefined);

/** what a rule finds wrong with a value of the right type; `abort` and `message` as zod's check would have them */
type Rule<T> = (v: T) => (Kind & { abort?: boolean; message?: string }) | undefined;

/**
 * `base`, then each rule in turn, as far as an aborting issue. (After a wrong type zod still measures
 * anything with a length for a string's or a list's size: a second issue at the same place, which no reader
 * is shown, as each says only the first at a place.)
 */
export const checked = <T>(base: Check<T>, ...rules: Rule<T>[]): Check<T> =>
  like(base, (v, at, issues) => {
    const before = issues.length;
    const out = base(v, at, issues);
    if (issues.slice(before).some((i) => i.abort)) return out;
    for (const rule of rules) {
      const r = rule(out);
      if (!r) continue;
      const { abort = false, message, ...k } = r;
      issues.push(issue(k, at, out, abort, message));
      if (abort) break;
    }
    return out;
  });

const size = (v: number | string | readonly unknown[]): [origin: string, size: number] => (typeof v === 'number' ? ['number', v] : [typeof v === 'string' ? 'string' : 'array', v.length]);
export const atLeast =
  (minimum: number, message?: string): Rule<number | string | readonly unknown[]> =>
  (v) => {
    const [origin, n] = size(v);
    return n >= minimum ? undefined : { code: 'too_small', origin, minimum, inclusive: true, message };
  };
export const atMost =
  (maximum: number, message?: string): Rule<number | string | readonly unknown[]> =>
  (v) => {
    const [origin, n] = size(v);
    return n <= maximum ? undefined : { code: 'too_big', origin, maximum, inclusive: true, message };
  };
/** zod's positive() */
export const aboveZero =
  (message?: string): Rule<number> =>
  (v) =>
    v > 0 ? undefined : { code: 'too_small', origin: 'number', minimum: 0, inclusive: false, message };
export const matches =
  (pattern: RegExp, message: string): Rule<string> =>
  (v) =>
    pattern.test(v) ? undefined : { code: 'invalid_format', message };

/** zod's int(): a whole number, and a safe one */
export const int = checked(
  number,
  (v) => (Number.isInteger(v) ? undefined : { code: 'invalid_type', expected: 'int', abort: true }),
  (v) => (Number.isSafeInteger(v) ? undefined : v > 0 ? { code: 'too_big', origin: 'int', maximum: Number.MAX_SAFE_INTEGER, inclusive: true } : { code: 'too_small', origin: 'int', minimum: Number.MIN_SAFE_INTEGER, inclusive: true }),
);

export const oneOf =
  <const T extends readonly (string | number | boolean)[]>(values: T): Check<T[number]> =>
  (v, at, issues) => {
    if (!values.includes(v as T[number])) issues.push(issue({ code: 'invalid_value', values }, at, v, true));
    return v as T[number];
  };

export const optional = <T>(check: Check<T>): Check<T | undefined> & { optional: true } =>
  Object.assign(
    like(check, (v, at, issues) => (v === undefined ? undefined : check(v, at, issues))),
    { optional: true as const },
  );
export const withDefault = <T>(check: Check<T>, made: () => T): Check<T> => like(check, (v, at, issues) => (v === undefined ? made() : check(v, at, issues)));
export const preprocess = <T>(change: (v: unknown) => unknown, check: Check<T>): Check<T> => like(check, (v, at, issues) => check(change(v), at, issues));

/** a number a workflow wrote as text (`${PORT}` substitutes a string) taken as the number; other values as they are */
export const fromText = (v: unknown): unknown => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);

export const array = <T>(item: Check<T>): Check<T[]> =>
  Object.assign(
    (v: unknown, at: Path, issues: Issue[]): T[] => {
      if (!Array.isArray(v)) return refused('array', v, at, issues);
      return v.map((x, i) => item(x, [...at, i], issues));
    },
    { of: item },
  );

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** a map with any keys, each value checked */
export const record = <T>(value: Check<T>): Check<Record<string, T>> =>
  Object.assign(
    (v: unknown, at: Path, issues: Issue[]): Record<string, T> => {
      if (!isMap(v)) return refused('record', v, at, issues);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x, [...at, k], issues)]));
    },
    { of: value },
  );

type Fields = Record<string, Check<unknown>>;
type Flat<T> = { [K in keyof T]: T[K] } & {};
type Optionals<F extends Fields> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];
type ObjectOf<F extends Fields> = Flat<{ [K in Exclude<keyof F, Optionals<F>>]: Made<F[K]> } & { [K in Optionals<F>]?: Exclude<Made<F[K]>, undefined> }>;

/**
 * A map with these fields; of other keys, zod's three ways: refused (strictObject), kept after the fields
 * (looseObject) or dropped (object).
 */
export function object<F extends Fields, O extends 'refused' | 'kept' | 'dropped' = 'refused'>(fields: F, others?: O): Check<O extends 'kept' ? ObjectOf<F> & Record<string, unknown> : ObjectOf<F>> {
  const check = (v: unknown, at: Path, issues: Issue[]) => {
    if (!isMap(v)) return refused('object', v, at, issues);
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(fields)) if (v[name] !== undefined || !field.optional) out[name] = field(v[name], [...at, name], issues);
    const rest = Object.keys(v).filter((k) => !Object.hasOwn(fields, k));
    if (others === 'kept') for (const k of rest) out[k] = v[k];
    else if (others !== 'dropped' && rest.length) issues.push(issue({ code: 'unrecognized_keys', keys: rest }, at, v, false));
    return out as never;
  };
  return Object.assign(check, { fields });
}

/**
 * zod's union: the first branch that takes the value; else the issues of the one branch that got furthest (none
 * aborted); else, for a map, those of the one branch that is a map; else "Invalid input"
 */
export function union<C extends Check<unknown>[]>(...branches: C): Check<Made<C[number]>> {
  const check = (v: unknown, at: Path, issues: Issue[]) => {
    const tried = branches.map((b) => {
      const own: Issue[] = [];
      return { value: b(v, at, own), own };
    });
    const taken = tried.find((t) => t.own.length === 0);
    if (taken) return taken.value as never;
    const whole = tried.filter((t) => !t.own.some((i) => i.abort));
    if (whole.length === 1) {
      issues.push(...whole[0].own);
      return whole[0].value as never;
    }
    // a map where one form is a map: what is wrong inside it (a misspelt key) says more than "not any form";
    // here this checker parts from zod, which says "Invalid input"
    const maps = branches.filter((b) => b.fields);
    if (maps.length === 1 && isMap(v)) {
      const own = tried[branches.indexOf(maps[0])].own;
      issues.push(...own);
      return v as never;
    }
    issues.push(issue({ code: 'invalid_union' }, at, v, true));
    return v as never;
  };
  // of `'balance' | { partition }`, the map is the only branch with fields to suggest
  return Object.assign(check, { fields: branches.find((b) => b.fields)?.fields });
}

/** The fields the map at `path` in a value of `check`'s shape may have, to suggest one for a misspelt key. */
export function fieldsAt(check: Check<unknown>, path: readonly (string | number)[]): string[] {
  const [seg, ...rest] = path;
  if (!path.length) return Object.keys(check.fields ?? {});
  const next = check.fields ? (typeof seg === 'string' && Object.hasOwn(check.fields, seg) ? check.fields[seg] : undefined) : check.of;
  return next ? fieldsAt(next, rest) : [];
}

/** the value a check makes of `v`, and every issue it found */
export function checkShape<T>(check: Check<T>, v: unknown, at: Path = []): { value: T; issues: Issue[] } {
  const issues: Issue[] = [];
  return { value: check(v, at, issues), issues };
}
