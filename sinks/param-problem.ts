import { didYouMean } from '../workflows/errors.ts';

/** A param that is wrong (a sink's, a device listener's), at its path under the function's or source's `params`. */
export interface ParamProblem {
  path: (string | number)[];
  reason: string;
  at?: 'key' | 'value';
}

/** Checks each param by its own rule; a name with no rule is unknown, with a did-you-mean. A rule returns why the value is wrong. */
export function checkParams(p: Record<string, unknown>, rules: Record<string, (v: unknown, all: Record<string, unknown>) => string | undefined>): ParamProblem[] {
  const known = Object.keys(rules);
  const problems: ParamProblem[] = [];
  for (const [k, v] of Object.entries(p)) {
    const why = Object.hasOwn(rules, k) ? rules[k](v, p) : `unknown param${didYouMean(k, known)} (have: ${known.join(', ')})`;
    if (why) problems.push({ path: [k], reason: why, at: Object.hasOwn(rules, k) ? 'value' : 'key' });
  }
  return problems;
}

export const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
