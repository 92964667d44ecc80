import { tap, type Observable } from 'rxjs';
import type { FunctionContext } from '../function-module.ts';

/** Prints every record it observes as one JSON line on stdout. */
export default (in$: Observable<unknown>, ctx: FunctionContext) => {
  const prefix = ctx.params.prefix === undefined ? '' : String(ctx.params.prefix);
  return in$.pipe(tap((r) => process.stdout.write(prefix + JSON.stringify(r) + '\n')));
};
