import '../runtime/quiet-wasi-warning.ts';
import { parentPort, workerData } from 'node:worker_threads';
import type { KernelMaker } from '../kernels/create-kernel.ts';
import { setLogLevel, tapLogLines } from '../log/logger.ts';
import type { ThreadMessage } from '../runtime/module-thread.ts';
import { runningCallCell } from '../runtime/running-call.ts';
import type { HostCommand, HostMessage, HostWorkerData } from './function-hosts.ts';
import { functionsOf } from './function-logs.ts';
import { startFailed, startInstance, type RunningInstance, type SavedInstance, type StartOptions } from './run-instance.ts';
import { startSource } from './run-source.ts';

/**
 * A host thread: many function instances and sources that run geoflux's own code (kernels, builtins) in one
 * isolate, each exactly as in a thread of its own (serve/local-worker.ts), told apart by their slot.
 * serve/function-hosts.ts starts and watches it. Every `snapshotMs` (longer when exports are slow: SNAPSHOT_SHARE), each kernel
 * instance that handled records since its last snapshot posts its state (its devices', or all of it for a kernel whose state moves whole
 * only: hotspot), so that the thread's restart (a neighbour hung or threw) can give it back; one whose kernel cannot export its state (its
 * `snapshot` returns an error or traps) says why instead, so that serve says it starts empty. An instance stopped because its function parks leaves what made its kernel (its files read,
 * its params prepared) behind, by its slot, until the function's wake starts an instance from it or serve
 * says to forget it; a restart of the thread forgets them all (a wake then reads the files again).
 */

const port = parentPort!;
const data = workerData as HostWorkerData;
setLogLevel(data.logLevel);
const post = (m: ThreadMessage | HostMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);
// its watchdog tells a kernel call that hangs from a neighbour's start-up by the call it sees under way
post({ geoflux: 'calls', cell: runningCallCell() });
// its instances' lines also go to serve, each with the function it is about, for `geoflux logs`
tapLogLines((l) => {
  for (const fn of functionsOf(l)) post({ geoflux: 'log', line: l.line, fn });
});

interface Slot {
  instance?: RunningInstance;
  /** what its handler had received at its last snapshot, when that was, and the ms its export took */
  snapshotAt: number;
  /** devices were imported since the last snapshot */
  movedIn?: boolean;
  snapshotTime: number;
  exportMs: number;
}

/**
 * A snapshot blocks the host while the kernel exports (2,000 geofence devices: 80–130 ms on this loaded
 * machine): the next waits at least this many times that long, so snapshots take at most ~2 % of the thread.
 */
const SNAPSHOT_SHARE = 50;
const slots = new Map<number, Slot>();
// its pongs (all instances) and each instance's acks (its own, on its channel) numbered alike, so that serve keeps the newer
let reports = 0;
/** an instance's stats as serve reads them: a function's with the records it handled since its last snapshot (a source handles none) */
const slotStats = (s: Slot, stats: object) => {
  const { received } = stats as { received?: number };
  return received === undefined ? stats : { ...stats, unsnapshotted: received - s.snapshotAt };
};
/** what made the kernels of parked functions, by the slot of the instance that parked */
const kept = new Map<number, KernelMaker>();

port.on('message', (m: HostCommand) => {
  if (m.geoflux === 'ping') {
    post({ geoflux: 'pong', n: ++reports, stats: Object.fromEntries([...slots].map(([slot, s]) => [slot, s.instance && slotStats(s, s.instance.stats() as object)])) });
    void snapshot();
  } else if (m.geoflux === 'start') void start(m.slot, m.data, { restore: m.state, made: m.from === undefined ? undefined : take(m.from), joinEarly: m.wake });
  else if (m.geoflux === 'stop' && m.slot !== undefined) void stopSlot(m.slot, m.keep, m.save);
  else if (m.geoflux === 'forget') kept.delete(m.slot);
  else if (m.geoflux === 'stop') void Promise.allSettled([...slots.keys()].map((slot) => stopSlot(slot))).finally(() => process.exit(0));
  else {
    const s = slots.get(m.slot!);
    // devices moved in (a restore, a wake, a rebalance) change the state with no record received: the next
    // snapshot takes them once they are in, or a neighbour's hang before this instance's next record would lose them
    if (s?.instance)
      void s.instance.answer(m).then((reply) => {
        if (m.geoflux === 'import-state') s.movedIn = true;
        post(reply);
      });
    else post({ geoflux: 'reply', id: m.id, error: `no instance in slot ${m.slot} of this host` });
  }
});

function take(slot: number): KernelMaker | undefined {
  const m = kept.get(slot);
  kept.delete(slot);
  return m;
}

async function start(slot: number, d: HostWorkerData['instances'][number]['data'], o: StartOptions): Promise<void> {
  const s: Slot = { snapshotAt: 0, snapshotTime: Date.now(), exportMs: 0 };
  slots.set(slot, s);
  try {
    // a function's acks carry its counters: what it acked is counted even if the host dies before the next ping
    s.instance = d.kind === 'source' ? await startSource(d, o) : await startInstance(d, { ...o, withAcks: (stats) => ({ slot, n: ++reports, stats: slotStats(s, stats) }) });
    post({ geoflux: 'instance', slot, ready: true });
  } catch (e) {
    slots.delete(slot);
    post({ geoflux: 'instance', slot, ready: false, failed: startFailed(e) });
  }
}

async function stopSlot(slot: number, keep = false, save = false): Promise<void> {
  const instance = slots.get(slot)?.instance;
  const maker = keep ? instance?.maker() : undefined;
  if (maker) kept.set(slot, maker);
  let saved: SavedInstance | undefined;
  try {
    saved = await instance?.stop(save);
  } finally {
    slots.delete(slot);
    // its figures since the last ping are in these: serve keeps them once the instance is gone
    post({ geoflux: 'instance', slot, stopped: true, stats: instance?.stats(), saved }, saved && 'bytes' in saved ? [saved.bytes.buffer as ArrayBuffer] : undefined);
  }
}

let snapshotting = false;
/** the state of each kernel instance that changed since its last snapshot, at most every snapshotMs (or SNAPSHOT_SHARE × its export) */
async function snapshot(): Promise<void> {
  if (snapshotting) return;
  snapshotting = true;
  try {
    const now = Date.now();
    for (const [slot, s] of slots) {
      const i = s.instance;
      if (!i?.devices || now - s.snapshotTime < Math.max(data.snapshotMs, SNAPSHOT_SHARE * s.exportMs)) continue;
      const received = i.received();
      if (received === s.snapshotAt && !s.movedIn) continue;
      s.movedIn = false;
      const t0 = performance.now();
      const exported = await i.devices.exportAll().then(
        (e) => e.bytes,
        (e: Error) => e,
      );
      if (!slots.has(slot)) continue;
      if (exported instanceof Error) {
        // tried again after snapshotMs, not at every ping: what failed is most likely the kernel's ABI, which stays
        s.snapshotTime = now;
        post({ geoflux: 'snapshot', slot, error: exported.message });
        continue;
      }
      [s.snapshotAt, s.snapshotTime, s.exportMs] = [received, now, performance.now() - t0];
      // moved, not cloned (the export is a buffer of its own)
      post({ geoflux: 'snapshot', slot, bytes: exported }, [exported.buffer as ArrayBuffer]);
    }
  } finally {
    snapshotting = false;
  }
}

// a restart: every instance loads (unwatched, as any thread's start-up), then the host is ready (watched from
// now on), then they join the zipper and are handed frames
const loaded: (() => void)[] = [];
const allLoaded = Promise.all(data.instances.map(() => new Promise<void>((r) => loaded.push(r)))).then(() => post({ geoflux: 'ready' }));
await Promise.all(
  data.instances.map((i, n) =>
    start(i.slot, i.data, {
      restore: i.state,
      beforeDial: () => {
        loaded[n]();
        return allLoaded;
      },
    }).finally(() => loaded[n]()),
  ),
);
await allLoaded;
