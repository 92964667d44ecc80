import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
// a context made after the flag has gc(); the test's own global was made before it
const gc = runInNewContext('gc') as () => void;

/**
 * Whether nothing holds `ref`'s object any more: a full collection after the current job ends (a WeakRef
 * made in this job keeps its object alive until then).
 */
export async function collected(ref: WeakRef<object>): Promise<boolean> {
  await new Promise((r) => setImmediate(r));
  gc();
  return ref.deref() === undefined;
}
