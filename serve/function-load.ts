import type { Zipper } from '../zipper/zipper.ts';
import { functionNameOf } from './versioned-name.ts';

export type FunctionLoad = ReturnType<Zipper['functionLoad']>[number];

/** The zipper's load per function under the user's name: the versions of a deployed function in a replace are summed. */
export function functionLoad(z: Zipper): FunctionLoad[] {
  const out = new Map<string, FunctionLoad>();
  for (const l of z.functionLoad()) {
    const name = functionNameOf(l.name);
    const was = out.get(name);
    out.set(name, was ? { name, instances: was.instances + l.instances, unacked: was.unacked + l.unacked, waiting: was.waiting + l.waiting } : { ...l, name });
  }
  return [...out.values()];
}
