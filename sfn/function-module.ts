import type { Observable } from 'rxjs';
import { logger, type Logger } from '../log/logger.ts';
import type { ClientOptions } from '../client/client.ts';
import { connectStreamFunction, type BatchHandler, type StreamFunction, type StreamFunctionOptions } from './connect-stream-function.ts';

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

/**
 * A function module exports `default`, an RxJS handler of records, or `batches`, which makes a handler of
 * fixes by the batch as columns (`BatchHandler`: what kernels want); `batches` is called before the
 * function connects, so what it loads can fail start-up.
 */
export interface FunctionModule {
  default?: (in$: Observable<any>, ctx: FunctionContext<any>) => Observable<unknown>;
  batches?: (ctx: FunctionContext<any>) => BatchHandler | Promise<BatchHandler>;
  /** with `batches`: most fixes in one call, and ms to wait for that many (default 4096, 0) */
  batch?: { max?: number; ms?: number };
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
export async function startFunctionModule(mod: FunctionModule, spec: FunctionSpecOptions, conn: Omit<ClientOptions, 'name'> & Pick<StreamFunctionOptions, 'joinEarly' | 'withAcks'>): Promise<StreamFunction> {
  if (typeof mod.default !== 'function' && typeof mod.batches !== 'function') {
    throw new Error('a function module must export a default function (in$, ctx) => Observable, or batches(ctx) => { process(batch) }');
  }
  const name = spec.name ?? mod.name;
  if (!name) throw new Error('the function has no name: export const name = "...", or pass --name');
  const observe = spec.observe ?? mod.observe;
  if (!observe?.length) throw new Error(`function "${name}" observes no tag: export const observe = ["gps"], or pass --observe`);
  const log = conn.log ?? logger(`sfn ${name}`);
  const ctx: FunctionContext = { name, params: spec.params ?? {}, log };
  let batches: BatchHandler | undefined;
  const init = async () => {
    await mod.init?.(ctx);
    if (mod.batches) batches = await mod.batches(ctx);
  };
  const sfn = await connectStreamFunction({ ...conn, name, observe, log, init });
  const emit = spec.emit ?? mod.emit;
  if (batches) sfn.handleBatches(batches, { emit, maxRows: mod.batch?.max, maxWait: mod.batch?.ms });
  else sfn.handle((in$) => mod.default!(in$, ctx), { emit });
  return sfn;
}
