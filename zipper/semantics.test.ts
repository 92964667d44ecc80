import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import { unpackMeta } from '../codecs/metadata.ts';
import type { DataFrame } from '../codecs/frame-types.ts';
import { PROTOCOL_VERSION } from '../codecs/frame-types.ts';
import { transportFor } from '../transport/index.ts';
import { later, QUIC, TOKEN, testConfig } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from './zipper.ts';

const [, listen, urlOf] = QUIC;
const fix = (i: number): GpsRecord => ({ deviceId: `veh-${i % 3}`, t: i, lon: 7.42, lat: 43.73, speed: i % 50 });

describe('zipper semantics', () => {
  it('carries source id, sequence number and trace id from the source through a function to the next', async () => {
    const z = later(
      await Zipper.start(
        testConfig(listen, [
          { name: 'double', observe: ['gps'], dispatch: { kind: 'balance' } },
          { name: 'tail', observe: ['out'], dispatch: { kind: 'balance' } },
        ]),
      ),
    );
    const opts = { zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash };
    const fn = later(await connectStreamFunction({ name: 'double', observe: ['gps'], ...opts }));
    fn.handle((in$) => in$.pipe(map((r: GpsRecord) => ({ kind: 'x', t: r.t }))), { emit: 'out' });
    // the last hop is a bare channel, so the test sees the frames themselves
    const url = new URL(opts.zipper);
    const ch = await (await transportFor(url)).dial(url, { certHash: z.tls.certHash });
    const frames: DataFrame[] = [];
    ch.start({ frame: (f) => f.type === 'data' && ch.send({ type: 'ack', seq: frames.push(f) }), closed: () => {} });
    ch.send({ type: 'handshake', name: 'tail', kind: 'sfn', clientId: 'tail-1', token: TOKEN, observe: ['out'], version: PROTOCOL_VERSION });
    const src = later(await connectSource({ name: 'gw', ...opts }));
    src.write('gps', [fix(1), fix(2)]);
    await waitFor(() => frames.length > 0, { what: () => 'a frame at the last hop' });
    const meta = unpackMeta(frames[0].meta);
    expect(meta).toMatchObject({ sid: src.clientId, seq: 1, ct: 'msgpack' });
    expect(meta.tid).toMatch(/^[0-9a-f]{16}$/);
    expect(frames[0].from).toBe(fn.clientId);
    ch.abort();
  });

  it('drops and counts data written to a tag reserved for the zipper', async () => {
    const z = later(await Zipper.start(testConfig(listen, [{ name: 'sink', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const src = later(await connectSource({ name: 'gw', zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash }));
    src.write(3 as unknown as string, fix(1));
    expect(await src.flush(5000)).toBe(true);
    expect(z.counters.forbidden).toBe(1);
  });

  it('skips a record whose handling throws, counts it, and goes on', async () => {
    const z = later(await Zipper.start(testConfig([], [{ name: 'picky', observe: ['gps'], dispatch: { kind: 'balance' } }])));
    const errors: unknown[] = [];
    const fn = later(
      await connectStreamFunction({ name: 'picky', observe: ['gps'], zipper: z.memoryUrl, token: TOKEN, onError: (_e, r) => errors.push(r) }),
    );
    const seen: number[] = [];
    fn.handle((in$) =>
      in$.pipe(
        map((r: GpsRecord) => {
          if (r.t % 10 === 3) throw new Error('bad fix');
          seen.push(r.t);
        }),
      ),
    );
    const src = later(await connectSource({ name: 'gw', zipper: z.memoryUrl, token: TOKEN }));
    for (let i = 0; i < 100; i++) src.write('gps', fix(i));
    await waitFor(() => seen.length === 90, { what: () => `90 good records (have ${seen.length})` });
    expect(fn.stats().errors).toBe(10);
    expect(errors.map((r) => (r as GpsRecord).t)).toEqual([3, 13, 23, 33, 43, 53, 63, 73, 83, 93]);
  });

  it('pushes back on a source while a function is not reading, and loses nothing', async () => {
    const z = later(await Zipper.start(testConfig(listen, [{ name: 'slow', observe: ['gps'], dispatch: { kind: 'balance' } }]), { highWater: 8 }));
    // the function is a bare channel the test can stall and release
    const ch = await (await transportFor(new URL(z.memoryUrl))).dial(new URL(z.memoryUrl), {});
    let records = 0;
    let frames = 0;
    ch.start({
      frame: (f) => {
        if (f.type !== 'data') return;
        records += new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(4, true);
        ch.send({ type: 'ack', seq: ++frames });
      },
      closed: () => {},
    });
    ch.send({ type: 'handshake', name: 'slow', kind: 'sfn', clientId: 'slow-1', token: TOKEN, observe: ['gps'], version: PROTOCOL_VERSION });
    await waitFor(() => z.stats().connections.length === 1, { what: () => 'the function to join' });
    ch.pause();
    const src = later(await connectSource({ name: 'gw', spool: 4000, zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash }));
    let written = 0;
    let told = false;
    for (let i = 0; i < 400 && !told; i++) {
      told = !src.write('gps', Array.from({ length: 100 }, (_, k) => fix(written + k)));
      written += 100;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(told).toBe(true); // the source was told to slow down
    expect(src.stats().spooled).toBeGreaterThan(0);
    ch.resume();
    expect(await src.flush(30_000)).toBe(true);
    expect(records).toBe(written);
    expect(src.stats().dropped).toBe(0);
    ch.abort();
  });
});
