import { importModule, type Builtins } from '../../runtime/import-module.ts';
import type { FunctionModule } from '../function-module.ts';

/** The functions a workflow can name as `run: builtin:<name>`. */
export const BUILTIN_FUNCTIONS: Builtins<FunctionModule> = {
  congestion: () => import('./congestion.ts'),
  printer: () => import('./printer.ts'),
  speeding: () => import('./speeding.ts'),
};

/** A function module a workflow or `geoflux run` names: `builtin:<name>`, or a path (relative to `baseDir`). */
export const loadFunctionModule = (spec: string, baseDir?: string): Promise<FunctionModule> => importModule(spec, BUILTIN_FUNCTIONS, 'function', baseDir);
