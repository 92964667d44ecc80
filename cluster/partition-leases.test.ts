import type { Bucket } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterEach, expect, it } from 'vitest';
import type { Logger } from '../log/logger.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { waitFor } from '../testing/wait-for.ts';
import type { Clock } from '../transport/liveness.ts';
import { PartitionLeases } from './partition-leases.ts';
import { setUpStream } from './stream-setup.ts';

const server = natsServerForFile();
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet, about: () => quiet };
const TTL = 1_000;
const P = 8;
let stream = 0;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Workers on one fresh stream, and a log of who held what: a partition must never have two holders. */
async function cluster() {
  const nc: NatsConnection = await connect({ servers: server().url });
  cleanup.push(() => nc.close());
  const { leases: kv } = await setUpStream(nc, { stream: `leases${++stream}`, leaseTtlMs: TTL });
  const owner = new Map<number, string>();
  const events: string[] = [];
  const dead = new Set<string>();
  const worker = (name: string, clock?: Clock, bucket: Bucket = kv) => {
    const w = new PartitionLeases({
      kv: bucket,
      worker: name,
      partitions: P,
      ttlMs: TTL,
      renewMs: 250,
      clock,
      log: quiet,
      acquired: (p) => {
        const before = owner.get(p);
        if (before && !dead.has(before)) throw new Error(`partition ${p} acquired by ${name} while ${before} holds it`);
        owner.set(p, name);
        events.push(`${name} acquired ${p}`);
      },
      releasing: (p) => {
        owner.delete(p);
        events.push(`${name} releasing ${p}`);
      },
      lost: (p) => {
        if (owner.get(p) === name) owner.delete(p);
        events.push(`${name} lost ${p}`);
      },
    });
    cleanup.push(() => w.close({ release: false }));
    return w;
  };
  /** a worker that crashed or stalls: taking its partitions is no double holding */
  const crash = (w: PartitionLeases, name: string) => (dead.add(name), w.close({ release: false }));
  return { worker, events, owner, crash, dead, kv };
}

it('hands half the partitions to a worker that joins, each released by its holder before the newcomer takes it', async () => {
  const { worker, events } = await cluster();
  const a = worker('a');
  await a.start();
  expect(a.partitions()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  const b = worker('b');
  await b.start();
  await waitFor(() => b.partitions().length === 4, { what: () => `b to hold 4; events: ${events.join(', ')}` });
  expect(a.partitions()).toEqual([0, 1, 2, 3]);
  expect(b.partitions()).toEqual([4, 5, 6, 7]);
  expect(events.filter((e) => e.includes('lost'))).toEqual([]);
  expect(a.stats()).toMatchObject({ held: 4, acquired: 8, released: 4, lost: 0 });
});

it('leaves no consumers behind on the leases bucket, round after round', async () => {
  const { worker, kv } = await cluster();
  const a = worker('a');
  await a.start();
  for (let i = 0; i < 20; i++) await a.tick();
  const consumers = [];
  for await (const c of kv.jsm.consumers.list(kv.stream)) consumers.push(c.name);
  expect(consumers).toEqual([]);
});

it("gives a dead worker's partitions to the survivor once its leases expire", async () => {
  const { worker, events, crash, owner } = await cluster();
  const a = worker('a');
  const b = worker('b');
  await a.start();
  await b.start();
  await waitFor(() => a.partitions().length === 4 && b.partitions().length === 4, { what: () => `an even split; events: ${events.join(', ')}` });
  await crash(a, 'a');
  await waitFor(() => b.partitions().length === P, { ms: 10_000, what: () => `b to take all; events: ${events.join(', ')}` });
  expect(b.stats()).toMatchObject({ acquired: P, lost: 0 });
  expect([...owner.values()]).toEqual(Array(P).fill('b'));
});

it('takes partitions from a worker stalled past the TTL, which finds them lost and gets its share back by hand-over', async () => {
  const { worker, events, dead } = await cluster();
  const clock = new ManualClock();
  dead.add('a');
  const stalled = worker('a', clock);
  await stalled.start();
  const b = worker('b');
  await b.start();
  // a's clock does not move, so it renews nothing: after the TTL b is alone and takes everything
  await waitFor(() => b.partitions().length === P, { ms: 10_000, what: () => `b to take all; events: ${events.join(', ')}` });
  clock.advance(250);
  await stalled.tick();
  expect(events.filter((e) => e.startsWith('a lost'))).toHaveLength(P);
  expect(stalled.partitions()).toEqual([]);
  await waitFor(
    async () => {
      clock.advance(250);
      await stalled.tick();
      return stalled.partitions().length === 4;
    },
    { what: () => `a to get its share back; events: ${events.join(', ')}` },
  );
  expect(b.partitions()).toEqual([0, 1, 2, 3]);
  expect(stalled.partitions()).toEqual([4, 5, 6, 7]);
});

it('never takes a partition another worker holds, even when its listing of the leases is out of date', async () => {
  const { worker, events, kv } = await cluster();
  const a = worker('a');
  await a.start();
  // listing and claiming are two steps: another worker may claim in between. Here b's listing always says
  // every partition is free, and claiming (create: only if absent) must still refuse the ones a holds
  const stale = new Proxy(kv, {
    get: (t, k) => (k === 'fullKeyName' ? (key: string) => t.fullKeyName(key === 'partitions.>' ? 'none.>' : key) : Reflect.get(t, k, t)),
  });
  const b = worker('b', undefined, stale);
  await b.start();
  await waitFor(() => b.partitions().length === 4, { what: () => `b to hold 4; events: ${events.join(', ')}` });
  expect(a.partitions()).toEqual([0, 1, 2, 3]);
});
