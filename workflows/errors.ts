/** A workflow file problem, located: `workflow.yaml:14:5 functions[1].observe: unknown tag "gsp" (did you mean "gps"?)`. */
export class WorkflowError extends Error {
  override readonly name = 'WorkflowError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}:${line}:${column} ${path}: ${reason}`);
  }
}

export function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest candidate within edit distance 2, if any. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

export const didYouMean = (word: string, candidates: Iterable<string>): string => {
  const c = closest(word, candidates);
  return c ? ` (did you mean "${c}"?)` : '';
};

/** a value as a problem names what it got: `string "kmh"`, `a list`, `nothing` */
// JSON has no NaN or Infinity: stringified, they read "null", so a number that is none is named as itself
export const describeValue = (v: unknown): string =>
  v === null ? 'nothing' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : `${typeof v} ${JSON.stringify(v)}`;

/** `expected one of "m/s", "km/h", got string "kmh" (did you mean "km/h"?)` */
export const expectedOneOf = (values: readonly unknown[], got: unknown): string =>
  `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(got)}${typeof got === 'string' ? didYouMean(got, values.map(String)) : ''}`;

/** `functions[1].observe` from ['functions', 1, 'observe'] */
export const formatPath = (path: readonly (string | number)[]): string =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(root)';
