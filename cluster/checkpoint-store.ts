import type { ObjectStore } from '@nats-io/obj';

/** What a partition's owner has processed: its kernels' state after the message at stream sequence `seq`. */
export interface Checkpoint {
  seq: number;
  state: Uint8Array;
}

/**
 * A partition's latest checkpoint, one object per partition in the JetStream object store. An object store,
 * not KV: state outgrows a KV value (a message, 1 MB by default) at a few thousand devices of map matching,
 * and the object store chunks it (docs/scale-out.md has the sizes). The sequence goes in the object's
 * metadata, so both arrive together; a put replaces the object whole only once all its chunks are stored,
 * so a reader never sees half a checkpoint.
 */
export class CheckpointStore {
  constructor(private readonly objects: ObjectStore) {}

  async put(partition: number, cp: Checkpoint): Promise<void> {
    await this.objects.putBlob({ name: objectName(partition), metadata: { seq: String(cp.seq) } }, cp.state);
  }

  /** The latest checkpoint of `partition`, or undefined when none was ever put (start from the stream's first message). */
  async get(partition: number): Promise<Checkpoint | undefined> {
    const r = await this.objects.get(objectName(partition));
    if (!r) return undefined;
    const chunks: Uint8Array[] = [];
    for await (const c of r.data) chunks.push(c);
    const failed = await r.error;
    if (failed) throw failed;
    const state = Buffer.concat(chunks);
    return { seq: Number(r.info.metadata?.seq ?? 0), state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength) };
  }
}

const objectName = (partition: number) => `partition-${partition}`;
