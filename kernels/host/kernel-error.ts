import { pathText } from '../../codecs/path-text.ts';

/** A kernel refused something (its params, a batch) with a status and a message: the instance is fine. */
export class KernelError extends Error {
  override readonly name: string = 'KernelError';
}

/** The kernel trapped (a bug in it, or it ran out of memory): that instance is gone, the host is not. */
export class KernelTrap extends Error {
  override readonly name = 'KernelTrap';
}

/** A param the kernel's schema does not allow, at `path` under params (`['detect', 1]`). */
export interface ParamProblem {
  path: (string | number)[];
  reason: string;
  /** point at the param's name (an unknown param) rather than its value */
  at?: 'key' | 'value';
}

/** Params a kernel's schema refuses, each named: `params.detcet: unknown param (did you mean "detect"?)`. */
export class KernelParamError extends KernelError {
  override readonly name = 'KernelParamError';
  constructor(
    readonly kernel: string,
    readonly problems: ParamProblem[],
  ) {
    super(`kernel ${kernel}: ${problems.map((p) => `params${pathText(p.path)}: ${p.reason}`).join('; ')}`);
  }
}
