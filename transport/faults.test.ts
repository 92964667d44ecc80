import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Frame } from '../codecs/frame-types.ts';
import { connectSource, type Source } from '../source/connect-source.ts';
import '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { Zipper } from '../zipper/zipper.ts';
import { freePort } from '../testing/free-port.ts';
import { parseAddress, transportFor, type FrameChannel } from './index.ts';
import { DEFAULT_IDLE_TIMEOUT } from './liveness.ts';
import { signal, startChild, startZipperChild, type ZipperChild } from './testdata/child.ts';
import { recordingLog } from './testdata/recording-log.ts';

/**
 * Peers that vanish, for real: the other end runs in a child process that is killed (SIGKILL) or frozen
 * (SIGSTOP: no FIN, no RST, nothing, as a peer behind a dead link). What is asserted is what happened and why,
 * never how fast: the only clock here is the heartbeat's, with its defaults.
 */

const IDLE = new RegExp(
  `^no data from (quic|webtransport)://127\\.0\\.0\\.1:\\d+ for ${DEFAULT_IDLE_TIMEOUT} ms( \\(and (\\d+ ms more for the delays seen lately(, \\d+ ms for our own stalls)?|\\d+ ms for our own stalls)\\))?$`,
);
/**
 * How a client learns that the zipper is gone. QUIC runs on UDP, where a dead process leaves only silence: the
 * heartbeat's idle timeout tells, whatever the signal. WebTransport here runs on TCP, whose kernel resets the
 * connection of a killed process at once; only a frozen one (or a dead link) leaves silence.
 */
const LOST: Record<string, Record<'SIGKILL' | 'SIGSTOP', RegExp>> = {
  quic: { SIGKILL: IDLE, SIGSTOP: IDLE },
  webtransport: { SIGKILL: /^Session closed .* with code \d+/, SIGSTOP: IDLE },
};

const children: ChildProcess[] = [];
const closers: Array<() => Promise<unknown>> = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) await signal(c, 'SIGKILL');
  while (closers.length) await closers.pop()!().catch(() => {});
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'geoflux-faults-'));
  dirs.push(d);
  return d;
}

async function zipperChild(listen: string, dir: string): Promise<ZipperChild> {
  const z = await startZipperChild(listen, dir);
  children.push(z.child);
  return z;
}

/** a frame channel to the zipper, past its handshake */
async function handshaken(url: string, certHash: string): Promise<{ ch: FrameChannel; closed: Promise<Error | undefined> }> {
  const u = parseAddress(url);
  const ch = await (await transportFor(u)).dial(u, { certHash });
  closers.push(() => ch.close());
  let acked: () => void = () => {};
  const ack = new Promise<void>((r) => (acked = r));
  const closed = new Promise<Error | undefined>((resolve) =>
    ch.start({ frame: (f: Frame) => f.type === 'handshake-ack' && acked(), closed: resolve }),
  );
  ch.send({ type: 'handshake', name: 'probe', kind: 'source', clientId: 'probe-1', token: '', observe: [], version: PROTOCOL_VERSION });
  await ack;
  return { ch, closed };
}


describe.each([
  ['quic', (port: number) => `quic://127.0.0.1:${port}`],
  ['webtransport', (port: number) => `webtransport://127.0.0.1:${port}/geoflux`],
])('%s', (name, listenOn) => {
  for (const sig of ['SIGKILL', 'SIGSTOP'] as const) {
    it(`a client's channel closes, saying why, when the zipper's process gets ${sig}`, { timeout: 60_000 }, async () => {
      const z = await zipperChild(listenOn(0), await stateDir());
      const { closed } = await handshaken(z.url, z.certHash);
      await signal(z.child, sig);
      expect((await closed)?.message).toMatch(LOST[name][sig]);
    });
  }

  it('a source sees a SIGKILLed zipper as lost, and reconnects to it restarted, pinned to the same certificate', { timeout: 90_000 }, async () => {
    const dir = await stateDir();
    const port = await freePort();
    const first = await zipperChild(listenOn(port), dir);
    const log = recordingLog();
    const src: Source = await connectSource({ name: 'gw', zipper: first.url, certHash: first.certHash, maxBackoff: 300, log });
    closers.push(() => src.close(0));
    src.write('gps', { deviceId: 'veh-1', t: 1, lon: 7.42, lat: 43.73 });
    expect(await src.flush(10_000)).toBe(true);

    await signal(first.child, 'SIGKILL');
    await waitFor(() => !src.stats().connected, { what: () => 'the source to notice', ms: 30_000 });
    const lost = log.lines.find((l) => l.startsWith('warn lost the zipper'));
    expect(lost?.replace(/^warn lost the zipper \((.*)\); reconnecting in .*$/, '$1')).toMatch(LOST[name].SIGKILL);

    src.write('gps', { deviceId: 'veh-1', t: 2, lon: 7.42, lat: 43.73 }); // spooled while the zipper is down
    const second = await zipperChild(listenOn(port), dir);
    expect(second.certHash).toBe(first.certHash);
    await waitFor(() => src.stats().connected, { what: () => 'the source to reconnect', ms: 30_000 });
    expect(src.stats().reconnects).toBe(1);
    expect(await src.flush(10_000)).toBe(true);
    expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });

  it('the zipper frees the connection of a source whose process is frozen, and counts it', { timeout: 60_000 }, async () => {
    const z = await Zipper.start({ name: `faults-${name}`, listen: [listenOn(0)], tags: { gps: 16 }, functions: [] });
    closers.push(() => z.close(0));
    const { child } = await startChild('./source-process.ts', [z.listeners[0].url, z.tls.certHash], (l) => (l === 'flowing' ? true : undefined));
    children.push(child);
    expect(z.stats().connections.map((c) => c.name)).toEqual(['doomed']);
    await signal(child, 'SIGSTOP');
    await waitFor(() => z.stats().connections.length === 0, { what: () => 'the zipper to let the source go', ms: 30_000 });
    expect(z.stats().listeners.find((l) => l.url.startsWith(name))?.idleTimeouts).toBe(1);
  });
});
