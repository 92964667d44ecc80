import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { nanos, nuid, type NatsConnection } from '@nats-io/transport-node';
import { partitionFilter } from './partition.ts';

export interface PartitionMessage {
  /** its stream sequence: what a checkpoint records */
  seq: number;
  subject: string;
  /** the subject's middle token */
  tag: string;
  data: Uint8Array;
}

export interface PartitionReaderOptions {
  stream: string;
  partition: number;
  /** the sequence the restored checkpoint covers: reading starts after it (0: from the stream's start) */
  afterSeq: number;
  /** handles one message; the next comes only once it resolves, and it is acked then */
  handle(m: PartitionMessage): Promise<void>;
  /** messages pulled ahead of the handler (default 256) */
  prefetch?: number;
  /** ms JetStream waits for an ack before delivering again (default 30,000): the handler's budget */
  ackWaitMs?: number;
}

/**
 * Reads one held partition — every tag's subject `<stream>.*.<p>` — in stream order, from the message after
 * a checkpoint's sequence, through an ephemeral pull consumer of its own. One message at a time: the
 * handler's state is per device and devices arrive in time order. A message JetStream delivers again
 * (its ack was late) is acked and skipped, so nothing reaches the handler twice.
 */
export class PartitionReader {
  /** the sequence of the last message handled */
  lastSeq: number;
  /** settles when reading has stopped; rejects with the handler's error, which stops it */
  readonly done: Promise<void>;
  private stopping = false;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly o: PartitionReaderOptions,
    private readonly consumer: string,
    private readonly messages: ConsumerMessages,
  ) {
    this.lastSeq = o.afterSeq;
    this.done = this.read();
  }

  static async start(nc: NatsConnection, o: PartitionReaderOptions): Promise<PartitionReader> {
    const jsm = await jetstreamManager(nc);
    const name = `${o.stream}-p${o.partition}-${nuid.next()}`;
    await jsm.consumers.add(o.stream, {
      name,
      filter_subject: partitionFilter(o.stream, o.partition),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(o.ackWaitMs ?? 30_000),
      // a reader that died without stop() leaves its consumer behind: the server removes it after this long
      inactive_threshold: nanos(60_000),
      ...(o.afterSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: o.afterSeq + 1 } : { deliver_policy: DeliverPolicy.All }),
    });
    const messages = await (await jetstream(nc).consumers.get(o.stream, name)).consume({ max_messages: o.prefetch ?? 256 });
    return new PartitionReader(nc, o, name, messages);
  }

  private async read(): Promise<void> {
    for await (const m of this.messages) {
      if (this.stopping) break;
      if (m.seq > this.lastSeq) {
        await this.o.handle({ seq: m.seq, subject: m.subject, tag: m.subject.split('.').at(-2)!, data: m.data });
        this.lastSeq = m.seq;
      }
      m.ack();
    }
  }

  /** messages in the partition not yet delivered to this reader, or delivered and not yet acked: its lag */
  async lag(): Promise<number> {
    const c = await (await jetstreamManager(this.nc)).consumers.info(this.o.stream, this.consumer);
    return c.num_pending + c.num_ack_pending;
  }

  /** Stops after the message in hand (the partition is being given up) and removes the consumer. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages.close();
    await this.done;
    // with NATS away even reaching the manager fails: the server removes the consumer when it has been idle
    await jetstreamManager(this.nc)
      .then((jsm) => jsm.consumers.delete(this.o.stream, this.consumer))
      .catch(() => undefined);
  }
}
