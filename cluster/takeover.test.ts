import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, expect, it } from 'vitest';
import { decodeGpsBatch, recordsOf } from '../codecs/gps-batch.ts';
import { fleetBatch } from '../testing/gps-fleet-batch.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { waitFor } from '../testing/wait-for.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { EdgePublisher } from './edge-publisher.ts';
import { PartitionLeases } from './partition-leases.ts';
import { PartitionReader } from './partition-reader.ts';
import { setUpStream, type ClusterStore } from './stream-setup.ts';

/**
 * The building blocks as a worker will compose them: leases say which partitions to read; acquiring one
 * restores its checkpoint and reads from its sequence; releasing stops the reader and checkpoints; a crash
 * checkpoints nothing. The "kernel" keeps each device's last fix time as its state, so what a fix changed
 * is known and a fix counts as handled once per state it went into.
 */

const server = natsServerForFile();
const P = 4;
const DEVICES = 100;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet, about: () => quiet };

class Worker {
  /** every fix this worker handled, as deviceId@t */
  readonly handled: string[] = [];
  private readonly readers = new Map<number, PartitionReader>();
  private readonly state = new Map<number, Map<string, number>>();
  readonly leases: PartitionLeases;

  constructor(nc: NatsConnection, store: ClusterStore, name: string) {
    const checkpoints = new CheckpointStore(store.checkpoints);
    this.leases = new PartitionLeases({
      kv: store.leases,
      worker: name,
      partitions: P,
      ttlMs: 1_000,
      renewMs: 200,
      log: quiet,
      acquired: async (p) => {
        const cp = await checkpoints.get(p);
        const last = new Map<string, number>(cp ? JSON.parse(new TextDecoder().decode(cp.state)) : []);
        this.state.set(p, last);
        const reader = await PartitionReader.start(nc, {
          stream: store.stream,
          partition: p,
          afterSeq: cp?.seq ?? 0,
          handle: async (m) => {
            for (const r of recordsOf(decodeGpsBatch(m.data))) {
              last.set(r.deviceId, r.t);
              this.handled.push(`${r.deviceId}@${r.t}`);
            }
          },
        });
        this.readers.set(p, reader);
      },
      releasing: async (p) => {
        const reader = this.readers.get(p)!;
        this.readers.delete(p);
        await reader.stop();
        await checkpoints.put(p, { seq: reader.lastSeq, state: new TextEncoder().encode(JSON.stringify([...this.state.get(p)!])) });
      },
      lost: (p) => void this.readers.get(p)?.stop(),
    });
  }

  /** as kill -9 would: no release, no checkpoint */
  async crash(): Promise<void> {
    await this.leases.close({ release: false });
    await Promise.all([...this.readers.values()].map((r) => r.stop()));
  }
}

it('handles every fix across a worker crash (restore and replay) and a join (hand-over), and the hand-over repeats none', async () => {
  const nc = await connect({ servers: server().url });
  cleanup.push(() => nc.close());
  const store = await setUpStream(nc, { stream: 'takeover', leaseTtlMs: 1_000 });
  const edge = new EdgePublisher({ js: jetstream(nc), stream: 'takeover', partitions: P });
  const send = (from: number, to: number) => Promise.all(Array.from({ length: to - from + 1 }, (_, i) => edge.publish('gw-1', from + i, 'gps', fleetBatch(DEVICES, from + i))));
  const fix = (frame: number, i: number) => `veh-${i}@${1_700_000_000_000 + frame * 1000}`;
  const all = (to: number) => Array.from({ length: to }, (_, f) => Array.from({ length: DEVICES }, (_, i) => fix(f + 1, i))).flat();

  const a = new Worker(nc, store, 'a');
  cleanup.push(() => a.leases.close({ release: false }));
  await a.leases.start();
  await send(1, 10);
  await waitFor(() => a.handled.length === 10 * DEVICES, { what: () => `a to handle 10 frames; has ${a.handled.length}` });
  // a checkpoints what it has by handing every partition over as it leaves…
  const b = new Worker(nc, store, 'b');
  cleanup.push(() => b.leases.close({ release: false }));
  await a.leases.close();
  await b.leases.start();
  expect(b.leases.partitions()).toEqual([0, 1, 2, 3]);
  // …b goes on from those checkpoints, handles frames 11–15, and dies without checkpointing them
  await send(11, 15);
  await waitFor(() => b.handled.length === 5 * DEVICES, { what: () => `b to handle frames 11–15; has ${b.handled.length}` });
  await b.crash();

  const c = new Worker(nc, store, 'c');
  cleanup.push(() => c.leases.close({ release: false }));
  await c.leases.start();
  await waitFor(() => c.leases.partitions().length === P, { ms: 10_000, what: 'c to take over after the TTL' });
  const d = new Worker(nc, store, 'd');
  cleanup.push(() => d.leases.close({ release: false }));
  await d.leases.start();
  await waitFor(() => d.leases.partitions().length === P / 2, { what: () => `d to be handed its share; c holds ${c.leases.partitions()}` });
  await send(16, 20);
  await waitFor(() => c.handled.length + d.handled.length === 10 * DEVICES, { what: () => `c and d to handle frames 11–20; have ${c.handled.length + d.handled.length}` });

  // a's hand-over to b repeated nothing; c replayed exactly what b handled since the checkpoint; c's hand-over to d repeated nothing
  expect(a.handled.sort()).toEqual(all(10).sort());
  expect(b.handled.sort()).toEqual(all(15).slice(10 * DEVICES).sort());
  expect([...c.handled, ...d.handled].sort()).toEqual(all(20).slice(10 * DEVICES).sort());
});
