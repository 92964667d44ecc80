import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failingServe, startServe } from '../testing/serve-process.ts';
import { recordingLog } from '../transport/testdata/recording-log.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { waitFor } from '../testing/wait-for.ts';
import { LOCK_CHECK_MS, LOCK_FILE, lockStateFolder, StateFolderBusy } from './state-lock.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'geoflux-lock-'));
  dirs.push(d);
  return d;
};

/** a pid that ran and no longer does: a child's, once it exited */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

describe('the state folder lock', () => {
  it('is held by one serve at a time, even of two taking it at once; released, it is free again', async () => {
    const dir = join(tmp(), 'state');
    const tries = await Promise.allSettled([lockStateFolder(dir, recordingLog()), lockStateFolder(dir, recordingLog())]);
    const held = tries.filter((t) => t.status === 'fulfilled');
    expect(held).toHaveLength(1);
    const refused = tries.find((t) => t.status === 'rejected')!.reason as Error;
    expect(refused).toBeInstanceOf(StateFolderBusy);
    expect(refused.message).toBe(
      `state folder ${dir} is in use by another geoflux serve (pid ${process.pid}, in ${join(dir, LOCK_FILE)}): two serves on one state folder lose each other's deployments; stop that one, or give this workflow a state folder of its own (state: in the workflow); if no geoflux serve runs (pid ${process.pid} is now another program's), delete ${join(dir, LOCK_FILE)}`,
    );
    await (held[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof lockStateFolder>>>).value.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await (await lockStateFolder(dir, recordingLog())).release();
  });

  it('takes over the lock of a pid that no longer runs, with a warning', async () => {
    const dir = tmp();
    const gone = deadPid();
    writeFileSync(join(dir, LOCK_FILE), `${gone}\n`);
    const log = recordingLog();
    const lock = await lockStateFolder(dir, log);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(`${process.pid}\n`);
    expect(log.lines).toEqual([`warn state folder ${dir}: taking over its lock from pid ${gone}, which no longer runs (a serve that did not stop cleanly)`]);
    await lock.release();
  });

  it('deleted with its folder while held: put back at the next look, said once, so a second serve is refused again', async () => {
    const dir = join(tmp(), 'state');
    const file = join(dir, LOCK_FILE);
    const clock = new ManualClock();
    const log = recordingLog();
    const lock = await lockStateFolder(dir, log, { clock });
    // a look runs on the clock's timer and arms the next once done
    const look = async () => {
      clock.advance(LOCK_CHECK_MS);
      await waitFor(() => clock.pending === 1, 'the look done and the next one armed');
    };
    await look();
    expect(log.lines).toEqual([]);
    rmSync(dir, { recursive: true });
    await look();
    expect(log.lines).toEqual([
      `warn state folder ${dir}: its lock ${file} was gone (the folder deleted or cleaned while serve runs?): taken again, so a second serve on it is refused; what the folder held went with it: the certificate (a restart makes a new one, whose hash pinned clients then need) and the deployments (deploy them again, or a restart starts without them)`,
    ]);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockStateFolder(dir, recordingLog())).rejects.toBeInstanceOf(StateFolderBusy);
    await look();
    expect(log.lines).toHaveLength(1);
    // taken meanwhile by another process: said once, however many looks see it
    writeFileSync(file, `${process.ppid}\n`);
    await look();
    await look();
    expect(log.lines.slice(1)).toEqual([`warn state folder ${dir}: its lock ${file} was gone, and another process now holds it (pid ${process.ppid}): two serves on one state folder lose each other's deployments; stop one of them`]);
    await lock.release();
    expect(clock.pending).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('refuses a second serve of another workflow on the same folder at start, naming the folder and the first serve\'s pid', { timeout: 120_000 }, async () => {
    const dir = tmp();
    const state = join(dir, 'shared-state');
    const workflow = (name: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `name: ${name}\nlisten: [quic://127.0.0.1:0]\nstate: ${state}\ncontrol: { token: control-${name} }\ntags: { gps: 16 }\nfunctions: []\n`);
      return file;
    };
    const first = await startServe(workflow('a'));
    try {
      const second = await failingServe(workflow('b'));
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`geoflux serve: state folder ${state} is in use by another geoflux serve (pid ${first.child.pid}, in ${join(state, LOCK_FILE)})`);
      expect(second.stderr).not.toMatch(/listening on:/);
    } finally {
      expect(await first.stop()).toBe(0);
    }
    expect(existsSync(join(state, LOCK_FILE))).toBe(false);
  });
});
