import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { pack, unpack } from '../codecs/msgpack.ts';
import type { HotspotEvent } from '../kernels/hotspot.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { connectStreamFunction } from '../sfn/connect-stream-function.ts';
import { deviceIdsIn } from '../sfn/kernel-function.ts';
import { connectSource } from '../source/connect-source.ts';
import { firstFive, HOT_CELL, threeMore } from '../testing/hot-cell.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { startServe } from '../testing/serve-process.ts';
import { kernelWorkflow } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { lifetime } from './retired-counts.ts';
import { SavedStates, savedStatePath } from './saved-state.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');

/**
 * A hotspot's windows across a clean stop and start of serve (serve/saved-state.ts): its state moves whole
 * only (docs/kernel-abi.md), so each instance's is saved all of it and given back to the instance of the same
 * place. Real zipper over QUIC, the kernel in the host threads, fixes from a device source (not a replay of
 * the workflow's own, which starts over); `geoflux serve` in a process of its own for the SIGTERM, in this
 * one (a stop as the SIGTERM's) for the rest. One cell of a small grid takes 5 fixes, serve stops (its flush
 * scores that window and closes its slide), starts, the cell takes 3 more and the stream moves two slides on:
 * restored, the cell's window counts 8; started empty, 3 (and the stream's first slide is scored too).
 */

const PARAMS = Object.entries(HOT_CELL).map(([k, v]) => `${k}: ${v}`).join(', ');

const heatWorkflow = ({ instances = 1, dispatch, params = ', zThreshold: 1' }: { instances?: number; dispatch?: string; params?: string } = {}) =>
  kernelWorkflow({ workflow: 'heat', fn: 'heat', kernel: 'hotspot', emit: 'hotspots', instances, dispatch, params: `${PARAMS}${params}` });

const dir = mkdtempSync(join(tmpdir(), 'geoflux-whole-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a hotspot's state across a restart of serve", () => {
  // each test's workflow (and so its state folder) in a folder of its own
  let file = '';
  beforeEach(() => void (file = join(mkdtempSync(join(dir, 'test-')), 'workflow.yaml')));

  /** serve `text`; `drive` writes fixes and reads the events as `hot 8`; resolves once serve has stopped cleanly (as at a SIGTERM) */
  async function served(text: string, drive: (t: { write: (fixes: GpsRecord[]) => void; handled: () => number; events: string[] }) => Promise<void>) {
    writeFileSync(file, text);
    const wf = parseWorkflow(text, file, {});
    const log = keptLinesLog();
    const serve = await serveWorkflow(wf, { log });
    const trust = { zipper: serve.zipper.listeners[0].url, certHash: serve.zipper.tls.certHash };
    const events: string[] = [];
    const collector = await connectStreamFunction({ name: 'events', observe: ['hotspots'], ...trust });
    collector.handle((in$) => in$.pipe(tap((e: HotspotEvent) => events.push(`${e.detect} ${e.count}`))));
    const source = await connectSource({ name: 'gateway', ...trust });
    // fixes the kernel took, as its instances' acks report them
    const handled = () => serve.functionThreads.filter((t) => t.fn === 'heat').reduce((n, t) => n + Number((lifetime(t.thread).kernel as { rows?: number } | undefined)?.rows ?? 0), 0);
    try {
      await drive({ write: (fixes) => source.write('gps', fixes), handled, events });
    } finally {
      await source.close();
      // after serve: what the kernel's flush at the stop emits has somewhere to go, not held until the stop's deadline
      await serve.stop();
      await collector.close();
    }
    return { wf, serve, log };
  }

  it('starts empty with other params: said, counted', { timeout: 60_000 }, async () => {
    await served(heatWorkflow(), firstFive);
    const changed = await served(heatWorkflow({ params: ', zThreshold: 0.9' }), async (t) => {
      await threeMore(t);
      await waitFor(() => t.events.length, { what: () => `both closed windows' events, got ${t.events}`, until: (n) => n === 2 });
      expect(t.events).toEqual(['hot 3', 'hot 3']);
    });
    expect(changed.serve.restored.discarded.get('changed')).toBe(1);
    expect(changed.log.said.some((l) => /^warn function "heat": the state saved in .* is not used: its kernel or params \(or a file they name\) changed since; it starts empty$/.test(l))).toBe(true);
  });

  it('is not saved when its instances are partitioned, whose keys the next start deals out anew: said at the stop with why', { timeout: 60_000 }, async () => {
    const partitioned = await served(heatWorkflow({ instances: 2, dispatch: '{ partition: deviceId }' }), firstFive);
    expect(existsSync(savedStatePath(partitioned.wf.stateDir, 'heat'))).toBe(false);
    expect(partitioned.log.said).toContain(
      `info function "heat": its state is not saved: its kernel moves its state whole only (no per-device export: docs/kernel-abi.md, Devices moving) and its 2 instances are partitioned by deviceId: the zipper's hash ring, whose ids are new at every start, would give each instance other deviceIds than its state was built from`,
    );
  });

  it('dealt round robin, goes back instance for instance, and only to as many instances as saved it', { timeout: 60_000 }, async () => {
    const balanced = heatWorkflow({ instances: 2 });
    const first = await served(balanced, firstFive);
    const saved = savedStatePath(first.wf.stateDir, 'heat');
    expect(first.log.said).toContain(`info function "heat": its whole state (2 instances, from the fixes of 3 devices) saved to ${saved}`);
    const again = await served(balanced, async () => {});
    expect(again.log.said.some((l) => l.startsWith(`info heat: its whole state (2 instances, from the fixes of 3 devices) restored from ${saved}`))).toBe(true);

    const fewer = await served(heatWorkflow({ instances: 1 }), async (t) => {
      await threeMore(t);
      await waitFor(() => t.events.length, { what: () => `both closed windows' events, got ${t.events}`, until: (n) => n === 2 });
    });
    expect(fewer.serve.restored.discarded.get('changed')).toBe(1);
    expect(fewer.log.said.some((l) => /^warn function "heat": the state saved in .* is not used: it is the whole state of 2 instances, and the function now has 1: a whole state is neither split nor merged; it starts empty$/.test(l))).toBe(true);
  });

  it('refused by one instance (not a hotspot snapshot), leaves the other its own: said, counted', { timeout: 60_000 }, async () => {
    const balanced = heatWorkflow({ instances: 2 });
    const first = await served(balanced, firstFive);
    const saved = savedStatePath(first.wf.stateDir, 'heat');
    const file = unpack(readFileSync(saved)) as { states: Uint8Array[] };
    const junk = pack({ devices: [], whole: { state: new Uint8Array([1, 2, 3]), devices: [] } });
    // the instance that took the fixes keeps its state; the other's is not one
    const took = file.states.find((st) => deviceIdsIn(st).length > 0)!;
    writeFileSync(saved, pack({ ...file, states: [took, junk] }));
    const refused = await served(balanced, async () => {});
    expect(refused.serve.restored.discarded.get('refused')).toBe(1);
    expect(refused.serve.restored.devices.get('heat')).toBe(3);
    expect(refused.log.said.some((l) => l.startsWith(`warn function "heat": the state saved in ${saved} (saved `) && l.includes(') was refused by 1 of its 2 instances (') && l.endsWith('): they start empty, the others go on from theirs'))).toBe(true);
  });
});

describe('a whole state of which an instance could not be taken at the stop', () => {
  it('is not saved, as it goes back only to as many instances as saved it: said', async () => {
    const file = join(mkdtempSync(join(dir, 'lost-')), 'workflow.yaml');
    const wf = parseWorkflow(heatWorkflow({ instances: 2 }), file, {});
    const log = keptLinesLog();
    const saving = new SavedStates(wf, wf.functions, log);
    saving.add('heat', { bytes: new Uint8Array([1]), devices: ['a', 'b', 'c'], whole: true });
    saving.add('heat', undefined);
    await saving.write();
    expect(existsSync(savedStatePath(wf.stateDir, 'heat'))).toBe(false);
    expect(log.said).toEqual(['warn function "heat": the state of 1 of its 2 instances not saved (it did not stop in time): it starts empty at the next start (all of its state moves whole only, instance for instance)']);
  });
});

describe('whole states of round-robin instances, saved', () => {
  it('count a device dealt to both instances once', async () => {
    const file = join(mkdtempSync(join(dir, 'dealt-')), 'workflow.yaml');
    writeFileSync(file, heatWorkflow({ instances: 2 }));
    const wf = parseWorkflow(heatWorkflow({ instances: 2 }), file, {});
    const log = keptLinesLog();
    const saving = new SavedStates(wf, wf.functions, log);
    // round robin deals frames: frames of b went to both
    saving.add('heat', { bytes: new Uint8Array([1]), devices: ['a', 'b'], whole: true });
    saving.add('heat', { bytes: new Uint8Array([2]), devices: ['b', 'c'], whole: true });
    await saving.write();
    expect(log.said.some((l) => l.startsWith('info function "heat": its whole state (2 instances, from the fixes of 3 devices) saved to '))).toBe(true);
  });
});

describe("a hotspot's state across a SIGTERM of `geoflux serve` as its users run it", () => {
  it('is saved at the SIGTERM and goes on at the next start: the cell counts on', { timeout: 120_000 }, async () => {
    const file = join(mkdtempSync(join(dir, 'process-')), 'workflow.yaml');
    writeFileSync(file, `${heatWorkflow()}metrics: { port: 0 }\n`);
    /** serve from the file, `drive` given a writer of fixes, the events as `hot 8` and the records the kernel took (its metrics); then a SIGTERM */
    const run = async (drive: (t: { write: (fixes: GpsRecord[]) => void; events: string[]; handled: () => Promise<number>; metricsUrl: string }) => Promise<void>) => {
      const serve = await startServe(file);
      const trust = { zipper: serve.url, certHash: serve.certHash };
      const events: string[] = [];
      const collector = await connectStreamFunction({ name: 'events', observe: ['hotspots'], ...trust });
      collector.handle((in$) => in$.pipe(tap((e: HotspotEvent) => events.push(`${e.detect} ${e.count}`))));
      const source = await connectSource({ name: 'gateway', ...trust });
      const metricsUrl = serve.metricsUrl!;
      const handled = async () => total(parseExposition(await (await fetch(metricsUrl)).text()), 'geoflux_function_records_total', { function: 'heat' });
      try {
        await drive({ write: (fixes) => source.write('gps', fixes), events, handled, metricsUrl });
      } finally {
        await source.close(1000);
        serve.child.kill('SIGTERM');
        await serve.exited;
        await collector.close();
      }
      return serve;
    };

    const first = await run(firstFive);
    expect(await first.exited).toBe(0);
    const saved = first.out.stderr.match(/function "heat": its whole state \(1 instance, from the fixes of 3 devices\) saved to (\S+heat\.state)\n/)?.[1];
    expect(saved).toBeDefined();

    const second = await run(async (t) => {
      // read and deleted as serve started: a crash from here on does not feed this state again
      expect(existsSync(saved!)).toBe(false);
      await threeMore(t);
      expect(t.events).toEqual(['hot 8']);
      expect(total(parseExposition(await (await fetch(t.metricsUrl)).text()), 'geoflux_state_restored_devices_total', { function: 'heat' })).toBe(3);
    });
    expect(second.out.stderr).toContain(`heat: its whole state (1 instance, from the fixes of 3 devices) restored from ${saved} (saved `);
  });
});
