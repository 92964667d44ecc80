import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { pack } from '../codecs/msgpack.ts';
import type { GeofenceEvent } from '../kernels/geofence.ts';
import { setLogLevel } from '../log/logger.ts';
import { connectStreamFunction } from '../sfn/connect-stream-function.ts';
import { connectSource } from '../source/connect-source.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { endedPid } from '../testing/ended-pid.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { fenceWorkflow } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { savedStatePath, savedStatesFolder, startsOver } from './saved-state.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');

/**
 * A geofence's fence membership across a clean stop and start of serve (serve/saved-state.ts): the real
 * zipper over QUIC, the geofence kernel in two partitioned instances in the host threads, vehicles inside
 * f0. Restarted, a vehicle still inside fires no second `enter`; one that left while serve was down fires
 * its `exit`. With its params changed, the saved state is not used: the vehicles enter again.
 */

const VEHICLES = 6;

const dir = mkdtempSync(join(tmpdir(), 'geoflux-persist-'));
writeFileSync(join(dir, 'squares.geojson'), JSON.stringify(SQUARES));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fence membership across a restart of serve', () => {
  const file = join(dir, 'workflow.yaml');
  let s = 0;

  /** serve from the file as it is now; `drive` sends fixes (each vehicle inside f0 or not) and reads the events as `vN detect fence` */
  async function served(drive: (t: { fix: (v: number, inside: boolean) => void; events: string[] }) => Promise<void>) {
    const wf = parseWorkflow(readWorkflow(), file, {});
    const log = keptLinesLog();
    const serve = await serveWorkflow(wf, { log });
    const trust = { zipper: serve.zipper.listeners[0].url, certHash: serve.zipper.tls.certHash };
    const events: string[] = [];
    const collector = await connectStreamFunction({ name: 'events', observe: ['fences'], ...trust });
    collector.handle((in$) => in$.pipe(tap((e: GeofenceEvent) => events.push(`${e.deviceId} ${e.detect} ${e.fence.id}`))));
    const source = await connectSource({ name: 'fleet', ...trust });
    try {
      // every fix a second after the last, across the restarts too: the kernel skips a fix older than its device's last
      await drive({ fix: (v, inside) => source.write('gps', [{ ...crossingFix(v, ++s), lon: inside ? 0.005 : -0.005 }]), events });
    } finally {
      await source.close();
      await collector.close();
      await serve.stop();
    }
    return { wf, serve, log };
  }
  let text = fenceWorkflow({ instances: 2 });
  const readWorkflow = () => (writeFileSync(file, text), text);
  const all = (f: (v: number) => string) => Array.from({ length: VEHICLES }, (_, v) => f(v)).sort();

  it('fires no enter again for a vehicle still inside, an exit for one that left while serve was down', { timeout: 60_000 }, async () => {
    const first = await served(async ({ fix, events }) => {
      for (let v = 0; v < VEHICLES; v++) fix(v, true);
      await waitFor(() => events.length === VEHICLES, { what: () => `every vehicle's enter, got ${events}` });
    });
    const saved = savedStatePath(first.wf.stateDir, 'fence');
    expect(existsSync(saved)).toBe(true);
    expect(first.log.said).toContain(`info function "fence": ${VEHICLES} devices' state saved to ${saved}`);

    const second = await served(async ({ fix, events }) => {
      // read and deleted as serve started: a crash from here on does not feed this state again
      expect(existsSync(saved)).toBe(false);
      // v0 left while serve was down; the others are still inside, then leave
      fix(0, false);
      for (let v = 1; v < VEHICLES; v++) fix(v, true);
      for (let v = 1; v < VEHICLES; v++) fix(v, false);
      await waitFor(() => events.length >= VEHICLES, { what: () => `every vehicle's exit, got ${events}` });
      expect(events.sort()).toEqual(all((v) => `v${v} exit f0`));
    });
    expect(second.serve.restored.devices.get('fence')).toBe(VEHICLES);
    expect(second.log.said.some((l) => new RegExp(`^info fence: ${VEHICLES} devices' state restored from .*fence\\.state \\(saved \\d{4}-\\d\\d-\\d\\dT`).test(l))).toBe(true);
  });

  it('leaves no temporary file that a write cut short left (a forced exit as serve saved): the next start removes them, said in one line', { timeout: 60_000 }, async () => {
    const { stateDir } = parseWorkflow(readWorkflow(), file, {});
    // as a second Ctrl-C leaves them: a saved state's, written and not yet renamed; the deployments' and a
    // module's of a deploy killed mid-write; and the saved-state writer's of an older version (no random part)
    const folders = { state: stateDir, functions: savedStatesFolder(stateDir), kernels: join(stateDir, 'kernels') };
    for (const f of Object.values(folders)) mkdirSync(f, { recursive: true });
    const pid = endedPid();
    const leftovers = [join('functions', `fence.state.${pid}.0badcafe.tmp`), `deployments.json.${pid}.1234abcd.tmp`, join('kernels', `${'ab'.repeat(32)}.wasm.${pid}.99ff00aa.tmp`), join('functions', `fence.state.${pid}.tmp`)];
    for (const l of leftovers) writeFileSync(join(stateDir, l), 'half a write');
    // what is not a write's temporary file stays, and so does one whose writer runs (a worker sharing the folder)
    for (const mine of ['notes.tmp', `week.${pid}.tmp`]) writeFileSync(join(folders.functions, mine), 'mine');
    const writing = `${'cd'.repeat(32)}.wasm.${process.pid}.12345678.tmp`;
    writeFileSync(join(folders.kernels, writing), 'being written');
    const started = await served(async () => {});
    const tmps = (folder: string) => readdirSync(folder).filter((n) => n.endsWith('.tmp')).sort();
    expect(Object.values(folders).map(tmps)).toEqual([[], ['notes.tmp', `week.${pid}.tmp`], [writing]]);
    const said = started.log.said.filter((l) => l.includes('temporary file'));
    expect(said).toEqual([`info state folder ${stateDir}: removed 4 temporary files left by a write cut short (serve ended mid-write): ${leftovers.sort().join(', ')}`]);
    // removed, they are not said again
    expect((await served(async () => {})).log.said.filter((l) => l.includes('temporary file'))).toEqual([]);
  });

  it('is not fed to a function whose params changed, nor read from a file serve did not write: said, counted, and the vehicles inside enter again', { timeout: 60_000 }, async () => {
    await served(async ({ fix, events }) => {
      for (let v = 0; v < VEHICLES; v++) fix(v, true);
      await waitFor(() => events.length === VEHICLES, { what: () => `every vehicle's enter, got ${events}` });
    });
    text = fenceWorkflow({ instances: 2, params: ', detect: [enter, exit]' });
    const changed = await served(async ({ fix, events }) => {
      for (let v = 0; v < VEHICLES; v++) fix(v, true);
      await waitFor(() => events.length === VEHICLES, { what: () => `every vehicle's enter, got ${events}` });
      expect(events.sort()).toEqual(all((v) => `v${v} enter f0`));
    });
    expect(changed.serve.restored.discarded.get('changed')).toBe(1);
    expect(changed.log.said.some((l) => /^warn function "fence": the state saved in .* is not used: its kernel or params \(or a file they name\) changed since; it starts empty$/.test(l))).toBe(true);

    // a file serve did not write (msgpack with a state's key and states, but no time it was saved) is said,
    // counted and deleted, not fed to the kernel, and serve starts
    const saved = savedStatePath(changed.wf.stateDir, 'fence');
    writeFileSync(saved, pack({ key: 'k', states: [], savedAt: 'yesterday' }));
    const junk = await served(async ({ fix, events }) => {
      for (let v = 0; v < VEHICLES; v++) fix(v, true);
      await waitFor(() => events.length === VEHICLES, { what: () => `every vehicle's enter, got ${events}` });
    });
    expect(junk.serve.restored.discarded.get('unreadable')).toBe(1);
    expect(junk.log.said.some((l) => l.startsWith(`warn function "fence": ${saved} is not a state serve saved (`))).toBe(true);
  });
});

describe('the functions whose input starts over at every start', () => {
  it('are those a replay or a simulation of the workflow feeds, directly or through other functions; a device listener\'s are not', () => {
    const wf = parseWorkflow(
      `name: over
listen: [quic://127.0.0.1:0]
tags: { gps: 16, matched: 17, fences: 18, phones: 19, alerts: 20 }
functions:
  - { name: match, observe: [gps], emit: matched, host: local, kernel: geofence, params: { fences: squares.geojson } }
  - { name: fence, observe: [matched], emit: fences, host: local, kernel: geofence, params: { fences: squares.geojson } }
  - { name: phones, observe: [phones], emit: alerts, host: local, kernel: geofence, params: { fences: squares.geojson } }
sources:
  - { name: drive, run: builtin:replay, params: { files: [drive.csv] } }
  - { name: owntracks, run: builtin:owntracks, params: { port: 0, tag: phones } }
`,
      join(dir, 'over.yaml'),
      {},
    );
    expect(startsOver(wf, wf.functions)).toEqual(new Map([['match', 'drive'], ['fence', 'drive']]));
  });
});
