import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ZipperClient } from '../client/client.ts';
import { RecordTooLargeError } from '../client/record-writer.ts';
import { batchFromRecords, encodeGpsBatch } from '../codecs/gps-batch.ts';
import { packMeta } from '../codecs/metadata.ts';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { later, QUIC, TOKEN, testConfig } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from '../zipper/zipper.ts';

/**
 * Frames that fit: a write larger than the zipper's frame limit goes out in frames that fit it; one record
 * that no frame can carry is refused at once; a frame the zipper refuses as too large is given up, counted,
 * and does not hold back what was written after it. Over QUIC, whose zipper checks the limit (1 MiB here).
 */
const [, listen, urlOf] = QUIC;
const LIMIT = 1024 * 1024;
const fix = (i: number): GpsRecord => ({ deviceId: `veh-${i % 50}`, t: Date.UTC(2026, 0, 1) + i, lon: 7.42, lat: 43.73 });

async function zipperWithCounter() {
  const z = later(await Zipper.start(testConfig(listen, [{ name: 'count', observe: ['gps', 'out'], dispatch: { kind: 'balance' } }]), { maxFrameSize: LIMIT }));
  const opts = { zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash };
  const got: { deviceId?: string; t?: number; note?: string }[] = [];
  const sfn = later(await connectStreamFunction({ name: 'count', observe: ['gps', 'out'], ...opts }));
  sfn.handle((in$) => in$.pipe(map((r) => got.push(r))));
  return { z, opts, got };
}

describe('frames that fit', () => {
  it('sends a batch of 100,000 fixes (4 MB as columns) and an array of 60,000 as frames within the limit, dropping none', async () => {
    const { z, opts, got } = await zipperWithCounter();
    // a spool smaller than the write: what was sent is let go, not counted as dropped unless it never arrives
    const source = later(await connectSource({ name: 'big', ...opts, spool: 20_000 }));
    source.write('gps', batchFromRecords(Array.from({ length: 100_000 }, (_, i) => fix(i))));
    source.write('gps', Array.from({ length: 60_000 }, (_, i) => fix(100_000 + i)));
    expect(await source.flush(60_000)).toBe(true);
    await waitFor(() => got.length === 160_000, { ms: 60_000, what: () => `160,000 fixes (have ${got.length})` });
    expect(source.stats().reconnects).toBe(0);
    expect(source.stats().dropped).toBe(0);
    expect(z.counters.malformed).toBe(0);
  });

  it('refuses at once a record no frame can carry, and sends what is written beside it', async () => {
    const { got, opts } = await zipperWithCounter();
    const source = later(await connectSource({ name: 'big', ...opts }));
    expect(() => source.write('out', [{ note: 'small' }, { note: 'x'.repeat(2 * LIMIT) }])).toThrow(RecordTooLargeError);
    expect(() => source.write('out', { note: 'x'.repeat(2 * LIMIT) })).toThrow(/the record takes \d+ bytes, more than a frame to this zipper carries \(\d+ bytes of its 1048576-byte limit\)/);
    source.write('out', { note: 'after' });
    await waitFor(() => got.length === 1, { what: 'the record written after' });
    expect(got).toEqual([{ note: 'after' }]);
    expect((await source.close()).unacked).toBe(0);
  });

  it('gives up a raw frame the zipper refuses as too large, says so, and does not resend it forever', async () => {
    const { z, got, opts } = await zipperWithCounter();
    const client = new ZipperClient('source', { name: 'raw', ...opts, maxBackoff: 200 }, []);
    await client.connect();
    // a writer that believes in a larger limit than this zipper's (it ignores the handshake's word)
    client.maxFrameSize = 64 * LIMIT;
    const gps = client.tagNumber('gps');
    const write = (from: number, n: number) => {
      const fixes = Array.from({ length: n }, (_, i) => fix(from + i));
      client.writeFrame(gps, packMeta({ ct: 'gps' }), encodeGpsBatch(batchFromRecords(fixes)), n);
    };
    write(0, 40_000); // 1.6 MB
    write(40_000, 10);
    await waitFor(() => got.length === 10, { ms: 30_000, what: () => `the 10 fixes written after the refused frame (have ${got.length})` });
    expect(await client.flushed(10_000)).toBe(true);
    expect(client.spool.refused).toBe(40_000);
    expect(client.maxFrameSize).toBe(LIMIT);
    expect(client.reconnects).toBeLessThanOrEqual(1);
    expect(z.counters.malformed).toBe(1);
    await client.close();
  });
});
