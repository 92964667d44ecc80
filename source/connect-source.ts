import type { Observer } from 'rxjs';
import type { GpsBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { ZipperClient, type ClientOptions } from '../client/client.ts';
import { RecordWriter } from '../client/record-writer.ts';

export interface SourceOptions extends ClientOptions {
  /** most records in one frame (default 4096) */
  maxBatch?: number;
}

export interface SourceStats {
  connected: boolean;
  reconnects: number;
  /** records written and not yet acknowledged by the zipper */
  spooled: number;
  /** records dropped because the spool was full */
  dropped: number;
}

export interface Source {
  readonly clientId: string;
  /** Queues one record, an array of records, or a columnar batch; false means "slow down". */
  write(tag: string, data: GpsRecord | readonly GpsRecord[] | GpsBatch | object): boolean;
  /** an RxJS observer that writes what it is given: `gps$.subscribe(source.sink('gps'))` */
  sink(tag: string): Observer<unknown>;
  /** resolves when everything written is acknowledged (true), or false after `timeout` ms */
  flush(timeout?: number): Promise<boolean>;
  stats(): SourceStats;
  /** flushes (waiting at most `timeout` ms for acknowledgements), then disconnects */
  close(timeout?: number): Promise<void>;
}

/** Connects a source to a zipper. Writes made while disconnected are spooled and sent on reconnect. */
export async function connectSource(opts: SourceOptions): Promise<Source> {
  const client = new ZipperClient('source', opts, []);
  const writer = new RecordWriter(client, opts.maxBatch);
  await client.connect();
  return {
    clientId: client.clientId,
    write: (tag, data) => writer.write(tag, data),
    sink: (tag) => ({
      next: (v) => void writer.write(tag, v),
      error: (e: Error) => client.log.error(`sink for tag ${tag} got an error: ${e.message}`),
      complete: () => writer.flush(),
    }),
    flush(timeout) {
      writer.flush();
      return client.flushed(timeout);
    },
    stats: () => ({ connected: client.connected, reconnects: client.reconnects, spooled: client.spool.records, dropped: client.spool.dropped }),
    async close(timeout = 5000) {
      writer.flush();
      if (!(await client.flushed(timeout))) client.log.warn(`closing with ${client.spool.records} records the zipper has not acknowledged`);
      await client.close();
    },
  };
}
