import { connect } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { CheckpointStore } from './checkpoint-store.ts';
import { setUpStream } from './stream-setup.ts';

const server = natsServerForFile();

it("keeps each partition's latest checkpoint, larger than a KV value can be, with its sequence", async () => {
  const nc = await connect({ servers: server().url });
  const { checkpoints, leases } = await setUpStream(nc, { stream: 'city' });
  const store = new CheckpointStore(checkpoints);
  expect(await store.get(3)).toBeUndefined();
  const big = new Uint8Array(randomBytes(3 * 1024 * 1024));
  await store.put(3, { seq: 41, state: new Uint8Array([1, 2, 3]) });
  await store.put(3, { seq: 977, state: big });
  await store.put(4, { seq: 12, state: new Uint8Array(0) });
  const got = await store.get(3);
  expect(got?.seq).toBe(977);
  expect(Buffer.compare(got!.state, big)).toBe(0);
  expect(await store.get(4)).toEqual({ seq: 12, state: new Uint8Array(0) });
  // why not KV: the same state is refused as one value
  await expect(leases.put('too-big', big)).rejects.toThrow(/max_payload/);
  await nc.close();
});
