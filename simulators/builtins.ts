import { importModule, type Builtins } from '../runtime/import-module.ts';
import type { SourceModule } from '../source/source-module.ts';

/** The sources a workflow can name as `run: builtin:<name>`. */
export const BUILTIN_SOURCES: Builtins<SourceModule> = {
  traffic: () => import('./traffic.ts'),
  replay: () => import('./replay.ts'),
};

/** A source module a workflow names: `builtin:<name>`, or a path (relative to `baseDir`). */
export const loadSourceModule = (spec: string, baseDir?: string): Promise<SourceModule> => importModule(spec, BUILTIN_SOURCES, 'source', baseDir);
