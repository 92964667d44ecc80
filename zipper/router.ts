import type { Metadata } from '../codecs/metadata.ts';
import { HashRing } from './hash-ring.ts';
import { splitBatchByDevice } from './split-batch.ts';

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

/** Tags below this are the zipper's own; users cannot write them. */
export const FIRST_USER_TAG = 16;

/** One instance's share of a frame: the whole payload, or (partitioned GPS batches) its rows for that instance. */
export interface Send<C> {
  fn: string;
  to: C;
  payload: Uint8Array;
}

/** Where one Data frame goes, decided from the routing table alone. */
export interface RouteDecision<C> {
  sends: Send<C>[];
  /** functions observing the tag with no instance joined: the zipper holds the frame for them */
  holds: string[];
  /** why nothing observes it: a tag reserved for the zipper, or one no function observes */
  dropped?: 'forbidden' | 'unrouted';
  /** partitioned functions the frame had no key for (it went round robin) */
  unkeyed: number;
  /** a GPS batch that could not be read for splitting (it went whole, round robin) */
  unreadable?: string;
}

export interface RoutedFrame {
  tag: number;
  payload: Uint8Array;
  /** the metadata map, when a partition needs a key from it (read once per frame) */
  meta: () => Metadata;
}

/**
 * The route of one frame to one function: a single instance takes it all; round robin picks by `counter`;
 * a partition key in the metadata picks its owner; a GPS batch without one (a gateway's many vehicles) is
 * split by device, each instance getting its own vehicles' rows.
 */
export function routeToFunction<C>(route: FunctionRoute<C>, f: RoutedFrame, counter: () => number, out: RouteDecision<C>): void {
  const fn = route.spec.name;
  const n = route.instances.length;
  if (n === 0) return void out.holds.push(fn);
  if (n === 1) return void out.sends.push({ fn, to: route.instances[0], payload: f.payload });
  const dispatch = route.spec.dispatch;
  if (dispatch.kind === 'partition') {
    let meta: Metadata = {};
    try {
      meta = f.meta();
    } catch {
      /* unreadable metadata: no key, so round robin, counted below */
    }
    const key = meta[dispatch.key];
    if (key !== undefined && key !== null) return void out.sends.push({ fn, to: partitionOwner(route, String(key))!, payload: f.payload });
    if (meta.ct === 'gps' && dispatch.key === 'deviceId') {
      try {
        for (const [to, payload] of splitBatchByDevice(f.payload, (id) => partitionOwner(route, id)!)) out.sends.push({ fn, to, payload });
        return;
      } catch (e) {
        out.unreadable = (e as Error).message;
      }
    }
    out.unkeyed++;
  }
  out.sends.push({ fn, to: roundRobin(route, counter())!, payload: f.payload });
}

/** The route of a Data frame written to `f.tag`: to every function observing it (see routeToFunction). */
export function routeFrame<C>(routes: Routes<C>, f: RoutedFrame, counter: (fn: string) => () => number): RouteDecision<C> {
  const out: RouteDecision<C> = { sends: [], holds: [], unkeyed: 0 };
  if (f.tag < FIRST_USER_TAG) return { ...out, dropped: 'forbidden' };
  const observing = routes.byTag.get(f.tag);
  if (!observing) return { ...out, dropped: 'unrouted' };
  for (const r of observing) routeToFunction(r, f, counter(r.spec.name), out);
  return out;
}
