import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { expect, it } from 'vitest';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { setUpStream } from './stream-setup.ts';

const server = natsServerForFile();

it('creates a deduplicating file stream on <stream>.> and the lease and checkpoint buckets, and a second call changes nothing', async () => {
  const nc = await connect({ servers: server().url });
  const first = await setUpStream(nc, { stream: 'city', duplicateWindowMs: 60_000, leaseTtlMs: 2_000 });
  const again = await setUpStream(nc, { stream: 'city' });
  const info = await again.jsm.streams.info('city');
  expect(info.config).toMatchObject({ subjects: ['city.>'], storage: 'file', duplicate_window: 60_000_000_000 });
  expect((await first.leases.status()).ttl).toBe(2_000);
  expect((await again.checkpoints.status()).bucket).toBe('city_checkpoints');
  const js = jetstream(nc);
  expect((await js.publish('city.gps.3', 'x', { msgID: 'a' })).duplicate).toBe(false);
  expect((await js.publish('city.gps.3', 'x', { msgID: 'a' })).duplicate).toBe(true);
  await nc.close();
});

it('takes the limits a workflow names, also on a stream made before it named them', async () => {
  const nc = await connect({ servers: server().url });
  await setUpStream(nc, { stream: 'kept' });
  const { jsm } = await setUpStream(nc, { stream: 'kept', maxAgeMs: 3_600_000, maxBytes: 1e9 });
  expect((await jsm.streams.info('kept')).config).toMatchObject({ max_age: 3_600_000_000_000, max_bytes: 1e9 });
  await nc.close();
});
