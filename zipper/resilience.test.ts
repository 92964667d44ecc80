import { describe, expect, it } from 'vitest';
import { map } from 'rxjs';
import { connectSource, connectStreamFunction, type GpsRecord } from '../index.ts';
import type { Frame } from '../codecs/frame-types.ts';
import { dialQuicBytes } from '../transport/quic-bytes.ts';
import { transportFor } from '../transport/index.ts';
import { breathe, later, QUIC, TOKEN, testConfig, WEBTRANSPORT } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { recordingLog } from '../transport/testdata/recording-log.ts';
import { Zipper } from './zipper.ts';

const [, listen, urlOf] = QUIC;
const fns = [{ name: 'sink', observe: ['gps'], dispatch: { kind: 'balance' as const } }];
const fix = (i: number): GpsRecord => ({ deviceId: `veh-${i % 5}`, t: i, lon: 7.42, lat: 43.73 });

async function zipperWithSink() {
  const z = later(await Zipper.start(testConfig(listen, fns)));
  const opts = { zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash };
  const got: number[] = [];
  const sfn = later(await connectStreamFunction({ name: 'sink', observe: ['gps'], ...opts }));
  sfn.handle((in$) => in$.pipe(map((r: GpsRecord) => got.push(r.t))));
  return { z, opts, got, sfn };
}

describe('handshake', () => {
  it('rejects a wrong token with a reason, and counts it', async () => {
    const { z, opts } = await zipperWithSink();
    await expect(connectSource({ name: 'intruder', ...opts, token: 'nope' })).rejects.toThrow(/rejected source "intruder": bad token/);
    expect(z.counters.rejected).toBe(1);
  });

  it('rejects a name with a control character, counted by its reason, and neither side shows it raw', async () => {
    const log = recordingLog();
    const z = later(await Zipper.start(testConfig(listen, fns), { log }));
    const opts = { zipper: urlOf(z), token: TOKEN, certHash: z.tls.certHash };
    await expect(connectSource({ name: 'gw\u001b[2J', ...opts })).rejects.toThrow(/rejected source "gw\\u001b\[2J": name "gw\\u001b\[2J" has a control character \(U\+001B\)/);
    expect(z.rejections.get('name')).toBe(1);
    expect(log.lines.join('\n')).toMatch(/rejected .*: name "gw\\u001b\[2J" has a control character/);
    expect(log.lines.join('\n')).not.toContain('\u001b');
  });

  it('rejects a protocol version it does not speak', async () => {
    const { z, opts } = await zipperWithSink();
    const url = new URL(opts.zipper);
    const ch = await (await transportFor(url)).dial(url, { certHash: opts.certHash });
    const reply = await new Promise<Frame>((resolve) => {
      ch.start({ frame: resolve, closed: () => {} });
      ch.send({ type: 'handshake', name: 'old', kind: 'source', clientId: 'x', token: TOKEN, observe: [], version: 99 });
    });
    expect(reply).toEqual({ type: 'rejected', reason: 'protocol version 99 is not supported (this zipper speaks 1)' });
    ch.abort();
    expect(z.counters.rejected).toBe(1);
  });

  // over WebTransport, whose heartbeats are frames on the stream; QUIC's are PINGs, which open no stream, and a
  // QUIC connection that opens none is the listener's to drop (quic-bytes.test.ts)
  it('rejects a connection that sends no handshake in time (heartbeats are not one), and counts it', async () => {
    const [, wtListen, wtUrlOf] = WEBTRANSPORT;
    const z = later(await Zipper.start(testConfig(wtListen, fns), { handshakeTimeout: 200 }));
    const url = new URL(wtUrlOf(z));
    const ch = await (await transportFor(url)).dial(url, { certHash: z.tls.certHash });
    const reply = await new Promise<Frame>((resolve) => ch.start({ frame: resolve, closed: () => {} }));
    expect(reply).toEqual({ type: 'rejected', reason: 'no handshake within 200 ms' });
    ch.abort();
    expect(z.counters.handshakeTimeouts).toBe(1);
  });

  it('rejects an sfn whose name the workflow does not declare', async () => {
    const { opts } = await zipperWithSink();
    await expect(connectStreamFunction({ name: 'ghost', observe: ['gps'], ...opts })).rejects.toThrow(/no function "ghost" in workflow/);
  });
});

describe('bad input', () => {
  it('closes only the connection that sent a garbage frame', async () => {
    const { z, opts, got } = await zipperWithSink();
    const src = later(await connectSource({ name: 'good', ...opts }));
    const url = new URL(opts.zipper);
    const raw = await dialQuicBytes(url.hostname, Number(url.port), { certHash: opts.certHash });
    const reader = raw.readable.getReader();
    const writer = raw.writable.getWriter();
    for (let i = 0; i < 500; i++) src.write('gps', fix(i));
    await writer.write(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]));
    // the zipper closes the bad connection: the read side ends or errors
    await reader.read().catch(() => ({ done: true }));
    for (let i = 500; i < 1000; i++) src.write('gps', fix(i));
    await waitFor(() => got.length === 1000, { what: () => `1000 records from the good source (have ${got.length})` });
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(z.counters.malformed).toBe(1);
    await raw.close().catch(() => {});
  });

  it('warns once about the garbage a redialing client sends each time, and says how many more at close', async () => {
    const log = recordingLog();
    const z = later(await Zipper.start(testConfig(listen, fns), { log }));
    const url = new URL(urlOf(z));
    for (let i = 0; i < 5; i++) {
      const raw = await dialQuicBytes(url.hostname, Number(url.port), { certHash: z.tls.certHash });
      const reader = raw.readable.getReader();
      await raw.writable.getWriter().write(new Uint8Array([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]));
      await reader.read().catch(() => ({ done: true }));
      await raw.close().catch(() => {});
    }
    await waitFor(() => z.counters.malformed === 5, { what: () => `5 malformed frames counted (have ${z.counters.malformed})` });
    const warnings = () => log.lines.filter((l) => l.startsWith('warn'));
    expect(warnings()).toEqual([expect.stringMatching(/^warn clos.*(malformed|frame)/)]);
    await z.close();
    expect(warnings()).toEqual([expect.anything(), expect.stringMatching(/^warn … 4 more in the last [\d.]+ s; the last: clos/)]);
  });
});

/** a zipper and its sink, on a port it is started again on after a kill, with the same certificate */
async function restartableZipper() {
  const config = testConfig(listen, fns);
  const z = await Zipper.start(config);
  const port = new URL(urlOf(z)).port;
  const { tls } = z;
  const opts = { zipper: `quic://127.0.0.1:${port}`, token: TOKEN, certHash: tls.certHash, maxBackoff: 200 };
  const got: number[] = [];
  const sfn = later(await connectStreamFunction({ name: 'sink', observe: ['gps'], ...opts }));
  sfn.handle((in$) => in$.pipe(map((r: GpsRecord) => got.push(r.t))));
  const restart = async () => void later(await Zipper.start({ ...config, listen: [`quic://127.0.0.1:${port}`] }, { tls }));
  return { opts, got, kill: () => z.kill(), restart };
}

describe('zipper killed and restarted mid-stream', () => {
  it('the source reconnects and every record arrives exactly once', async () => {
    const { opts, got, kill, restart } = await restartableZipper();
    const src = later(await connectSource({ name: 'truck-gw', ...opts }));
    const N = 3000;
    let i = 0;
    for (; i < N / 2; i++) {
      src.write('gps', fix(i));
      if (i % 50 === 49) await breathe();
    }
    await kill();
    for (; i < N; i++) src.write('gps', fix(i)); // written while the zipper is down: spooled
    await restart();
    await waitFor(() => got.length >= N, { what: () => `${N} records after the restart (have ${got.length})`, ms: 30_000 });
    expect(await src.flush(10_000)).toBe(true);
    expect(got.length).toBe(N);
    expect(new Set(got).size).toBe(N);
    expect(src.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(src.stats().dropped).toBe(0);
  });

  it('says the spool at the loss and the resend after it in records, the counts agreeing', async () => {
    const { opts, got, kill, restart } = await restartableZipper();
    const log = recordingLog();
    const src = later(await connectSource({ name: 'truck-gw', ...opts, log }));
    src.write('gps', fix(0));
    expect(await src.flush(10_000)).toBe(true);
    await kill();
    await waitFor(() => !src.stats().connected, { what: 'the source to notice the zipper gone', ms: 10_000 });
    // one frame of three records, written while the zipper is away
    src.write('gps', [fix(1), fix(2), fix(3)]);
    await restart();
    await waitFor(() => got.length === 4, { what: () => `4 records after the restart (have ${got.length})`, ms: 30_000 });
    const said = log.lines.filter((l) => /spooled/.test(l));
    expect(said).toEqual([
      expect.stringMatching(/^warn lost the zipper \(.*\); reconnecting in \d+ ms, 0 records spooled$/),
      'info sending 3 records spooled (1 frame) the zipper does not have: 0 of the 0 records spooled when the connection ended, 3 written since',
    ]);
  });
});
