import { HashRing } from './hash-ring.ts';

/**
 * The routing table, as a pure function of the workflow's functions and the instances that have shaken
 * hands: which functions observe a tag, and which instance of a function gets a given frame. Like YoMo's
 * core/router, it holds no connections and does no I/O; the zipper rebuilds it on every join and leave.
 */

export type Dispatch = { kind: 'balance' } | { kind: 'partition'; key: string };

export interface FunctionSpec {
  name: string;
  observe: number[];
  dispatch: Dispatch;
}

export interface Instance<C> {
  /** the instance's clientId: the ring is built from these so placement survives reconnects of others */
  id: string;
  conn: C;
}

export interface FunctionRoute<C> {
  spec: FunctionSpec;
  instances: C[];
  ring: HashRing<C> | null;
}

export interface Routes<C> {
  byTag: Map<number, FunctionRoute<C>[]>;
  byName: Map<string, FunctionRoute<C>>;
}

export function buildRoutes<C>(specs: readonly FunctionSpec[], joined: ReadonlyMap<string, readonly Instance<C>[]>): Routes<C> {
  const byTag = new Map<number, FunctionRoute<C>[]>();
  const byName = new Map<string, FunctionRoute<C>>();
  for (const spec of specs) {
    const inst = joined.get(spec.name) ?? [];
    const route: FunctionRoute<C> = {
      spec,
      instances: inst.map((i) => i.conn),
      ring: spec.dispatch.kind === 'partition' ? new HashRing(inst.map((i) => ({ id: i.id, value: i.conn }))) : null,
    };
    byName.set(spec.name, route);
    for (const tag of spec.observe) {
      const list = byTag.get(tag) ?? [];
      list.push(route);
      byTag.set(tag, list);
    }
  }
  return { byTag, byName };
}

/** The instance for the `counter`-th frame under round robin. */
export const roundRobin = <C>(route: FunctionRoute<C>, counter: number): C | undefined =>
  route.instances.length === 0 ? undefined : route.instances[counter % route.instances.length];

/** The instance that owns partition key `key`. */
export const partitionOwner = <C>(route: FunctionRoute<C>, key: string): C | undefined => route.ring?.owner(key);
