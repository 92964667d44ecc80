import { filter, type Observable } from 'rxjs';
import type { Traversal } from '../../kernels/mapmatch.ts';
import type { FunctionContext } from '../function-module.ts';

/**
 * Keeps the edge traversals (from the mapmatch kernel) driven well below the edge's speed limit: what a
 * hotspot function counts to find congestion. Params: `below` (share of the limit, default 0.4) and
 * `minLength` (metres driven on the edge, default 15, so a few metres at a junction say nothing).
 */
export const isSlow =
  (below: number, minLength: number) =>
  (e: unknown): e is Traversal => {
    const t = e as Partial<Traversal>;
    return t.detect === 'traversal' && typeof t.speed === 'number' && (t.length ?? 0) >= minLength && t.speed < below * (t.limit ?? Infinity);
  };

export default (in$: Observable<unknown>, ctx: FunctionContext) => in$.pipe(filter(isSlow(Number(ctx.params.below ?? 0.4), Number(ctx.params.minLength ?? 15))));
