import { tap, type Observable } from 'rxjs';
import { formatAlert } from '../../alerts/format-alert.ts';
import { printableJson } from '../../codecs/control-characters.ts';
import { readableF32 } from '../../codecs/float32.ts';
import type { FunctionContext } from '../function-module.ts';

/**
 * Prints every record it observes on stdout: as a JSON line (f32 fields without their noise), or (`format:
 * alerts`) as a readable alert line; either way no field's control characters reach the terminal raw, and
 * without an event's `id`, which is for a reader that drops repeats (codecs/event-ids.ts), not for the eye.
 */
/** an event without its `id` (a record that has none, as it is) */
const withoutId = (r: unknown): unknown => {
  if (typeof r !== 'object' || r === null || !('id' in r)) return r;
  const { id: _id, ...rest } = r as Record<string, unknown>;
  return rest;
};

export default (in$: Observable<unknown>, ctx: FunctionContext) => {
  const prefix = ctx.params.prefix === undefined ? '' : String(ctx.params.prefix);
  const line = ctx.params.format === 'alerts' ? (r: unknown) => formatAlert(r as Record<string, unknown>) : (r: unknown) => printableJson(JSON.stringify(withoutId(r), readableF32));
  return in$.pipe(tap((r) => process.stdout.write(prefix + line(r) + '\n')));
};
