import { importModule, type Builtins } from '../runtime/import-module.ts';
import type { SourceModule } from './source-module.ts';
import { INGEST_PARAM_CHECKS } from '../ingest/ingest-params.ts';
import type { ParamProblem } from '../sinks/param-problem.ts';

/** The sources a workflow can name as `run: builtin:<name>`: simulators, and listeners for what real devices speak (ingest/). */
export const BUILTIN_SOURCES: Builtins<SourceModule> = {
  traffic: () => import('../simulators/traffic.ts'),
  replay: () => import('../simulators/replay.ts'),
  osmand: () => import('../ingest/osmand/osmand-source.ts'),
  teltonika: () => import('../ingest/teltonika/teltonika-source.ts'),
  nmea: () => import('../ingest/nmea/nmea-source.ts'),
  owntracks: () => import('../ingest/owntracks/owntracks-source.ts'),
};

/**
 * The built-in sources that make their own fixes (a simulation, a replay), which share a host thread: a
 * neighbour's hang restarts them from their beginning, and that costs a replay. A device listener holds fixes
 * its devices were told had arrived, which a neighbour's hang must not take: it keeps a thread of its own.
 */
export const HOSTED_SOURCES: ReadonlySet<string> = new Set(['builtin:traffic', 'builtin:replay']);

/** What is wrong with a built-in source's params, checked when the workflow loads (those without a check are checked when they start). */
export const builtinSourceParamProblems = (name: string, params: Record<string, unknown>): ParamProblem[] =>
  Object.hasOwn(INGEST_PARAM_CHECKS, name) ? INGEST_PARAM_CHECKS[name](params) : [];

/** A source module a workflow names: `builtin:<name>`, or a path (relative to `baseDir`). */
export const loadSourceModule = (spec: string, baseDir?: string): Promise<SourceModule> => importModule(spec, BUILTIN_SOURCES, 'source', baseDir);
