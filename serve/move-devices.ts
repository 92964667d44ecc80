import { unpack } from '../codecs/msgpack.ts';
import { holdsNoState } from '../sfn/kernel-function.ts';
import { HashRing } from '../zipper/hash-ring.ts';
import type { FunctionInstance } from '../runtime/module-thread.ts';

/**
 * Per-device kernel state from instances to others (docs/kernel-abi.md, Devices moving), at a frame
 * boundary the caller has made (the function paused, its instances settled): a replace hands every old
 * instance's devices to every new one; a scale change hands the devices whose owner on the hash ring
 * changes to their new owner. Every export is taken and imported before any instance forgets a device, so a
 * failure leaves the old owners as they were.
 */

export interface DeviceMove {
  from: FunctionInstance;
  to: FunctionInstance[];
  /** the devices to move; absent: every device `from` holds */
  devices?: string[];
}

/** why a move failed: taking the state, or putting it in (another kernel, another layout) */
export class MoveFailed extends Error {
  constructor(
    readonly stage: 'export' | 'import',
    cause: Error,
  ) {
    super(cause.message);
  }
}

/** Returns how many exports held state: none, and nothing was imported (a kernel that keeps none, say). */
export async function moveDevices(moves: DeviceMove[]): Promise<number> {
  const states = await Promise.all(moves.map((m) => m.from.ask({ geoflux: 'export-state', devices: m.devices }))).catch((e: Error) => {
    throw new MoveFailed('export', e);
  });
  const into = new Map<FunctionInstance, Uint8Array[]>();
  let held = 0;
  moves.forEach((m, i) => {
    const bytes = states[i];
    // an export of nothing is not imported: another kernel would refuse it by its name, with nothing to refuse
    if (!bytes || holdsNoState(bytes)) return;
    held++;
    for (const t of m.to) into.set(t, [...(into.get(t) ?? []), bytes]);
  });
  await Promise.all([...into].map(([t, bytes]) => t.ask({ geoflux: 'import-state', bytes }))).catch((e: Error) => {
    throw new MoveFailed('import', e);
  });
  await Promise.all(moves.map((m) => m.from.ask({ geoflux: 'drop-state', devices: m.devices })));
  return held;
}

/** A function's instance thread and its id at the zipper (its place on the hash ring). */
export interface RingInstance {
  id: string;
  thread: FunctionInstance;
}

/** The instance threads of a function with their ids at the zipper, and what each holds. */
export async function heldDevices(threads: FunctionInstance[]): Promise<(RingInstance & { devices: string[] })[]> {
  return Promise.all(
    threads.map(async (thread) => {
      const { instance, devices } = unpack((await thread.ask({ geoflux: 'held-devices' }))!) as { instance: string; devices: string[] };
      return { id: instance, thread, devices };
    }),
  );
}

/**
 * Each device held by an instance that is not its owner on the ring of `members` (the instances' ids as the
 * zipper will route once the change is made, given those running now) goes to its owner. Consistent hashing
 * keeps this to the devices of the instance that joins or leaves. Returns how many moved, and the instances.
 */
export async function rebalance(threads: FunctionInstance[], members: (instances: RingInstance[]) => string[]): Promise<{ moved: number; instances: RingInstance[] }> {
  const held = await heldDevices(threads);
  const ring = new HashRing(members(held).map((id) => ({ id, value: id })));
  const byId = new Map(held.map((h) => [h.id, h.thread]));
  const moves: DeviceMove[] = [];
  for (const h of held) {
    const to = new Map<string, string[]>();
    for (const d of h.devices) {
      const owner = ring.owner(d);
      if (owner === undefined || owner === h.id) continue;
      const list = to.get(owner);
      if (list) list.push(d);
      else to.set(owner, [d]);
    }
    for (const [owner, devices] of to) {
      const thread = byId.get(owner);
      if (!thread) throw new Error(`instance ${owner} on the ring has no thread here`);
      moves.push({ from: h.thread, to: [thread], devices });
    }
  }
  if (moves.length) await moveDevices(moves);
  return { moved: moves.reduce((n, m) => n + m.devices!.length, 0), instances: held };
}
