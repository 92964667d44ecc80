import type { Observable } from 'rxjs';
import { logger, type Logger } from '../log/logger.ts';
import type { ClientOptions } from '../client/client.ts';
import { connectStreamFunction, type StreamFunction } from './connect-stream-function.ts';

/**
 * A stream function as a module: what `geoflux run my-sfn.ts` runs as its own process and what a workflow's
 * `host: local` function runs inside the zipper. One file works both ways.
 *
 *   export const observe = ['gps'];
 *   export const emit = 'speeding';
 *   export default (in$, ctx) => in$.pipe(filter((r) => r.speed > ctx.params.limit));
 */
export interface FunctionContext<P extends object = Record<string, unknown>> {
  /** the function's name, as in the workflow */
  name: string;
  /** the workflow's `params:` for it (or `geoflux run --params`); type them: `FunctionContext<{ limit?: number }>` */
  params: P;
  log: Logger;
}

export interface FunctionModule {
  default: (in$: Observable<any>, ctx: FunctionContext<any>) => Observable<unknown>;
  name?: string;
  observe?: string[];
  emit?: string | string[];
  init?: (ctx: FunctionContext<any>) => void | Promise<void>;
}

export interface FunctionSpecOptions {
  name?: string;
  observe?: string[];
  emit?: string | string[];
  params?: Record<string, unknown>;
}

/** Connects a function module: the workflow's (or the command line's) settings win over the module's own. */
export async function startFunctionModule(mod: FunctionModule, spec: FunctionSpecOptions, conn: Omit<ClientOptions, 'name'>): Promise<StreamFunction> {
  if (typeof mod.default !== 'function') throw new Error('a function module must export a default function (in$, ctx) => Observable');
  const name = spec.name ?? mod.name;
  if (!name) throw new Error('the function has no name: export const name = "...", or pass --name');
  const observe = spec.observe ?? mod.observe;
  if (!observe?.length) throw new Error(`function "${name}" observes no tag: export const observe = ["gps"], or pass --observe`);
  const log = conn.log ?? logger(`sfn ${name}`);
  const ctx: FunctionContext = { name, params: spec.params ?? {}, log };
  const sfn = await connectStreamFunction({ ...conn, name, observe, log, init: () => mod.init?.(ctx) });
  sfn.handle((in$) => mod.default(in$, ctx), { emit: spec.emit ?? mod.emit });
  return sfn;
}
