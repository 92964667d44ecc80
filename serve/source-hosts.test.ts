import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSource, connectStreamFunction } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { ModuleThread } from '../runtime/module-thread.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { SPINNER } from '../testing/spinner.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { Zipper } from '../zipper/zipper.ts';
import { FunctionHosts, HostedInstance } from './function-hosts.ts';
import type { SourceData } from './run-source.ts';
import { serveWorkflow, type ServedWorkflow } from './serve-workflow.ts';
import { workflowMetrics } from './workflow-metrics.ts';

setLogLevel('silent');

const REPLAYED = 40;
const MINE = 25;

/** a replay of REPLAYED fixes of one vehicle, and a user's source module that writes MINE records on tag `mine` */
function files(dir: string): void {
  const rows = Array.from({ length: REPLAYED }, (_, i) => `veh-1,${1_700_000_000_000 + i * 1000},${7.4 + i * 1e-5},43.73,5`);
  writeFileSync(join(dir, 'fixes.csv'), ['deviceId,t,lon,lat,speed', ...rows].join('\n'));
  writeFileSync(
    join(dir, 'my-source.mjs'),
    `export default async function (source) {
  source.write('mine', Array.from({ length: ${MINE} }, (_, i) => ({ deviceId: 'u' + i, t: 1700000000000 + i, lon: 0, lat: 0 })));
  await source.flush(30000);
}
`,
  );
}

const serves: { served: ServedWorkflow; dir: string }[] = [];
afterEach(async () => {
  for (const { served, dir } of serves.splice(0)) {
    await served.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function serve(text: string) {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-source-hosts-'));
  files(dir);
  const log = keptLinesLog();
  const served = await serveWorkflow(parseWorkflow(text, join(dir, 'workflow.yaml'), {}), { log });
  serves.push({ served, dir });
  return { served, log, dir, trust: { zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash } };
}

/** what a function over QUIC is handed, by the tag it was written with (the user's source's devices are u…) */
async function collect(name: string, observe: string[], trust: { zipper: string; certHash: string }) {
  const got = new Map<string, number>();
  const fn = await connectStreamFunction({ name, observe, ...trust });
  const count = (tag: string) => got.set(tag, (got.get(tag) ?? 0) + 1);
  fn.handle((in$) => in$.pipe(tap((r: { deviceId: string }) => void count(r.deviceId.startsWith('u') ? 'mine' : 'gps'))));
  return { got, close: () => fn.close() };
}

describe('workflow sources', () => {
  it('a builtin runs in a host thread, a user\'s module (or one given a zipper:) in a thread of its own; their records arrive, and /metrics has them', { timeout: 60_000 }, async () => {
    const { served, log, dir, trust } = await serve(`name: sources
listen: [quic://127.0.0.1:0]
hosts: 1
tags: { gps: 16, mine: 17 }
functions:
  - name: collector
    observe: [gps, mine]
    host: remote
sources:
  - name: replayed
    run: builtin:replay
    params: { files: [fixes.csv], speed: max }
  - name: mine
    run: ./my-source.mjs
  # a zipper: of its own is dialed from a thread of its own, builtin or not (a QUIC client's exit must not be a host's)
  - name: dialing
    run: builtin:replay
    params: { files: [fixes.csv], speed: max }
    zipper: port://zipper
  # a device listener holds what its devices were told arrived: no neighbour's hang may take it
  - name: phones
    run: builtin:osmand
    params: { port: 0 }
`);
    const where = Object.fromEntries(served.sourceThreads.map((s) => [s.source, s.thread.constructor.name]));
    expect(where).toEqual({ replayed: HostedInstance.name, mine: ModuleThread.name, dialing: ModuleThread.name, phones: ModuleThread.name });
    // the one host thread runs the builtin source: no thread of its own beside it
    expect(served.hosts.stats().threads).toBe(1);
    expect(log.said).toContain('info source "replayed": builtin:replay via port://zipper, in host thread #1');
    expect(log.said).toContain(`info source "mine": ${join(dir, 'my-source.mjs')} via port://zipper, in a thread of its own`);

    const collector = await collect('collector', ['gps', 'mine'], trust);
    await waitFor(() => collector.got.get('gps') === 2 * REPLAYED && collector.got.get('mine') === MINE, { what: () => `every record, got ${JSON.stringify([...collector.got])}` });
    // acknowledged: no source holds a record, as each reports at its thread's pings (a report may still be on
    // its way, made before the last acks)
    const metrics = async () => parseExposition(await workflowMetrics(served).metrics());
    let held: number[] = [];
    const holdsNothing = async () => {
      const m = await metrics();
      held = ['replayed', 'mine', 'dialing', 'phones'].map((source) => total(m, 'geoflux_source_spooled_records', { source }));
      return served.sourceThreads.every((s) => (s.thread.stats as { connected?: boolean } | undefined)?.connected === true) && held.every((n) => n === 0);
    };
    await waitFor(holdsNothing, { what: () => `every source connected, holding nothing (spooled: ${held.join(', ')})` });
    expect(total(await metrics(), 'geoflux_host_threads')).toBe(1);
    await collector.close();
  });
});

describe('a builtin source in a host thread that hangs', () => {
  it('starts again with its host, as a source thread that died did: counted by reason, and it writes again', { timeout: 120_000 }, async () => {
    // the spinner (a kernel of the user's own that loops on a fix over 100 m/s) shares the one host with the
    // replay: both at serve's default watchdog, 10 s
    const { served, trust } = await serve(`name: hang
listen: [quic://127.0.0.1:0]
hosts: 1
tags: { gps: 16, slow: 17, spun: 18 }
functions:
${SPINNER}  - name: collector
    observe: [gps]
    host: remote
sources:
  - name: replayed
    run: builtin:replay
    params: { files: [fixes.csv], speed: max }
`);
    const replayed = served.sourceThreads.find((s) => s.source === 'replayed')!.thread;
    expect(replayed).toBeInstanceOf(HostedInstance);
    const collector = await collect('collector', ['gps'], trust);
    await waitFor(() => collector.got.get('gps') === REPLAYED, { what: () => `the replay, got ${collector.got.get('gps')}` });

    const fleet = await connectSource({ name: 'fleet', ...trust });
    fleet.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
    await waitFor(() => replayed.restarts.hung, { what: 'the host hung and restarted', ms: 60_000 });
    // started again from its beginning, as its own thread's restart did: the replay once more
    await waitFor(() => collector.got.get('gps') === 2 * REPLAYED, { what: () => `the replay again, got ${collector.got.get('gps')}`, ms: 60_000 });
    expect(replayed.running).toBe(true);
    const text = await workflowMetrics(served).metrics();
    expect(total(parseExposition(text), 'geoflux_source_restarts_total', { source: 'replayed', reason: 'hung' })).toBe(1);
    expect(served.hosts.stats().restartedEmpty).toBeGreaterThanOrEqual(1);
    await fleet.close();
    await collector.close();
  });
});

/**
 * A replay alone in a host thread, its zipper in this process, the host's watchdog and the source's retries
 * on a clock moved by hand: moved past the watchdog's limit at once, the host is taken for hung and restarts.
 */
async function hostedReplay(dir: string) {
  const z = await Zipper.start({ name: 'retry', listen: [], tags: { gps: 16 }, functions: [] });
  const clock = new ManualClock();
  const log = keptLinesLog();
  const hosts = new FunctionHosts({ size: 1, attach: (ch) => z.attach(ch), log, clock });
  const data: SourceData = { kind: 'source', name: 'replayed', run: 'builtin:replay', params: { files: ['fixes.csv'], speed: 'max' }, baseDir: dir, zipper: 'port://zipper', certHash: '' };
  const replay = hosts.instance('source "replayed"', data, WATCHDOG);
  await replay.start();
  const hang = () => clock.advance(3 * WATCHDOG);
  const failed = (n: number) => waitFor(() => hosts.stats().failedStarts, { what: `failed start ${n}`, until: (m) => m === n, ms: 30_000 });
  const errors = () => log.said.filter((l) => l.startsWith('error source'));
  return { hosts, replay, clock, hang, failed, errors, close: () => hosts.close().then(() => z.close()) };
}

// long enough that moving the clock by the retries' delays is no hang
const WATCHDOG = 120_000;

describe('a builtin source in a host thread that cannot start again', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const replayDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-source-retry-'));
    dirs.push(dir);
    files(dir);
    return dir;
  };

  it('is tried again after 1 s, then after up to 2 s, each try said and counted, until it starts', { timeout: 60_000 }, async () => {
    const dir = replayDir();
    const r = await hostedReplay(dir);
    try {
      renameSync(join(dir, 'fixes.csv'), join(dir, 'away.csv'));
      r.hang();
      await r.failed(1);
      expect(r.replay.running).toBe(false);
      r.clock.advance(1000);
      await r.failed(2);
      renameSync(join(dir, 'away.csv'), join(dir, 'fixes.csv'));
      r.clock.advance(2000);
      await waitFor(() => r.replay.running, 'the replay started by its second retry');
      expect(r.hosts.stats()).toMatchObject({ failedStarts: 2, restartedEmpty: 1 });
      expect(r.errors()).toEqual([
        expect.stringMatching(/^error source "replayed": could not start again with its host; trying again in \d+ ms: .*fixes\.csv/),
        expect.stringMatching(/^error source "replayed": could not start again; trying again in \d+ ms: .*fixes\.csv/),
      ]);
      const delays = r.errors().map((l) => Number(/in (\d+) ms/.exec(l)![1]));
      expect(delays[0]).toBeLessThanOrEqual(1000);
      expect(delays[1]).toBeLessThanOrEqual(2000);
    } finally {
      await r.close();
    }
  });

  it('is not tried again once serve stops', { timeout: 60_000 }, async () => {
    const dir = replayDir();
    const r = await hostedReplay(dir);
    try {
      rmSync(join(dir, 'fixes.csv'));
      r.hang();
      await r.failed(1);
      // its retry waits on the clock; the hosts' restarts end as serve stops, and it with them: the retry's
      // timer is gone from the clock, so no advance of it can start the replay again
      const waiting = r.clock.pending;
      r.hosts.endRestarts();
      expect(r.clock.pending).toBe(waiting - 1);
    } finally {
      await r.close();
    }
  });
});
