// The resolve hook testing/loaded-modules.mjs registers (module hooks run apart from the thread they serve).
import { appendFileSync } from 'node:fs';

let thread = '?';
let out = '';
export function initialize(data) {
  ({ thread, out } = data);
}
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(out, `${thread} ${r.url}\n`);
  return r;
}
