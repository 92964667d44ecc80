import { isBuiltinKernel } from './host/builtin-wasm.ts';
import type { ParamProblem } from './host/kernel-error.ts';
import { builtinSchema } from './host/load-module.ts';
import { paramProblems } from './host/params.ts';

/**
 * What is wrong with a kernel's params, without starting it: for a built-in, checked against its declared
 * schema (the workflow loader reports each problem at its line). A `.wasm` file declares its schema only
 * once loaded, so its params are checked when its function starts; here it has none.
 */
export function kernelParamProblems(kernel: string, params: unknown): ParamProblem[] {
  if (!isBuiltinKernel(kernel)) return [];
  let schema;
  try {
    schema = builtinSchema(kernel);
  } catch {
    // not built (a clone before npm install): the function's start says so, with what to do
    return [];
  }
  return paramProblems(schema, params ?? {});
}
