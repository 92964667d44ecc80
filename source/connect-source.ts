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
  /** records in frames the zipper refused as too large, given up */
  refused: number;
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
  /**
   * Flushes, waits at most `timeout` ms (default 5000) for the zipper to acknowledge everything written,
   * then disconnects; says what did not make it: records still unacknowledged, and those a full spool dropped.
   */
  close(timeout?: number): Promise<SourceCloseReport>;
}

export interface SourceCloseReport {
  /** records written and never acknowledged by the zipper: they may or may not have arrived */
  unacked: number;
  /** records dropped from a full spool while the zipper was away */
  dropped: number;
  /** records in frames the zipper refused as larger than it takes, given up rather than resent forever */
  refused: number;
  /** ms waited for acknowledgements */
  waited: number;
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
    stats: () => ({ connected: client.connected, reconnects: client.reconnects, spooled: client.spool.records + client.spool.unkeptRecords, dropped: client.spool.dropped, refused: client.spool.refused }),
    async close(timeout = 5000) {
      writer.flush();
      const t0 = Date.now();
      const acked = await client.flushed(timeout);
      const report = { unacked: client.spool.records + client.spool.unkeptRecords, dropped: client.spool.dropped, refused: client.spool.refused, waited: Date.now() - t0 };
      if (!acked) client.log.warn(`closing after ${report.waited} ms with ${report.unacked} records the zipper has not acknowledged`);
      await client.close();
      return report;
    },
  };
}
