import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { expect, it } from 'vitest';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { waitFor } from '../testing/wait-for.ts';
import { PartitionReader, type PartitionMessage } from './partition-reader.ts';
import { setUpStream } from './stream-setup.ts';

const server = natsServerForFile();

it("reads a partition's every tag in stream order from after a checkpoint, and a successor resumes with nothing missed or repeated", async () => {
  const nc = await connect({ servers: server().url });
  await setUpStream(nc, { stream: 'city' });
  const js = jetstream(nc);
  // 300 messages over partitions 0–2 and two tags; partition 1 has 100 of them
  const want: string[] = [];
  for (let i = 0; i < 300; i++) {
    const subject = `city.${i % 2 ? 'gps' : 'matched'}.${i % 3}`;
    const { seq } = await js.publish(subject, new TextEncoder().encode(`m${i}`));
    if (i % 3 === 1) want.push(`${seq}:${subject}:m${i}`);
  }
  const checkpointSeq = Number(want[9].split(':')[0]);
  const got: string[] = [];
  const handle = async (m: PartitionMessage) => void got.push(`${m.seq}:${m.subject}:${new TextDecoder().decode(m.data)}`);

  const first = await PartitionReader.start(nc, { stream: 'city', partition: 1, afterSeq: checkpointSeq, handle, prefetch: 16 });
  await waitFor(() => got.length >= 40, 'the first reader to handle 40 messages');
  await first.stop();
  expect(got.slice(-1)[0].startsWith(`${first.lastSeq}:`)).toBe(true);

  const second = await PartitionReader.start(nc, { stream: 'city', partition: 1, afterSeq: first.lastSeq, handle });
  await waitFor(() => got.length >= 90, { what: () => `90 messages; have ${got.length}` });
  await second.stop();
  expect(got).toEqual(want.slice(10));
  expect(got.every((g) => g.includes(':city.gps.1:') || g.includes(':city.matched.1:'))).toBe(true);
  expect((await (await jetstreamManager(nc)).consumers.list('city').next()).length).toBe(0);
  await nc.close();
});
