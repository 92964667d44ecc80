import { tap, type Observable } from 'rxjs';
import { formatAlert } from '../../alerts/format-alert.ts';
import { printableJson } from '../../codecs/control-characters.ts';
import { readableF32 } from '../../codecs/float32.ts';
import type { FunctionContext } from '../function-module.ts';

/**
 * Prints every record it observes on stdout: as a JSON line (f32 fields without their noise), or (`format:
 * alerts`) as a readable alert line; either way no field's control characters reach the terminal raw.
 */
export default (in$: Observable<unknown>, ctx: FunctionContext) => {
  const prefix = ctx.params.prefix === undefined ? '' : String(ctx.params.prefix);
  const line = ctx.params.format === 'alerts' ? (r: unknown) => formatAlert(r as Record<string, unknown>) : (r: unknown) => printableJson(JSON.stringify(r, readableF32));
  return in$.pipe(tap((r) => process.stdout.write(prefix + line(r) + '\n')));
};
