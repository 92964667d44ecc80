import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';
import { errnoReason, makeFolder, running, StateWriteError } from '../transport/state-files.ts';

export const LOCK_FILE = 'serve.lock';
/** how often a held lock is looked at: a state folder deleted under serve is noticed within this */
export const LOCK_CHECK_MS = 10_000;

/** this process's attempts, so that two serves of one process (tests) never write one file */
let tries = 0;

/** Another serve holds the state folder. */
export class StateFolderBusy extends Error {
  override readonly name = 'StateFolderBusy';
}

export interface StateLock {
  release(): Promise<void>;
}

/**
 * One serve per state folder: two would each rewrite `deployments.json` from their own list, and the last
 * to deploy wins while the other's deployments are lost. The lock file holds the pid, created exclusively
 * (`wx`), so of two serves starting together one gets it. A lock whose pid no longer runs (a serve killed
 * with -9, or ended by a second Ctrl-C) is taken over with a warning: moved aside first, so that of two
 * serves taking it over only one can, and put back should it turn out to be a live serve's after all.
 */
export async function lockStateFolder(dir: string, log: Logger, o: { clock?: Clock; checkEveryMs?: number } = {}): Promise<StateLock> {
  const file = join(dir, LOCK_FILE);
  await makeFolder(dir, 'the state folder');
  for (let attempt = 0; ; attempt++) {
    if (await linkLock(dir, file)) return held(dir, file, log, o.clock ?? systemClock, o.checkEveryMs ?? LOCK_CHECK_MS);
    if (attempt > 2) throw new Error(`state folder ${dir}: cannot take its lock ${file}: another serve took it each time it was free`);
    const holder = await pidIn(file);
    if (holder !== undefined && running(holder)) throw busy(dir, file, holder);
    const aside = `${file}.${process.pid}.stale`;
    try {
      await rename(file, aside);
    } catch {
      continue; // another serve took it over first
    }
    const moved = await pidIn(aside);
    if (moved !== undefined && running(moved)) {
      // a live serve's lock, taken between our look and our move: back where it was (link: never over another)
      await link(aside, file).catch(() => {});
      await unlink(aside);
      throw busy(dir, file, moved);
    }
    await unlink(aside);
    const whose = moved ?? holder;
    log.warn(`state folder ${dir}: taking over its lock${whose ? ` from pid ${whose}, which no longer runs` : ', which names no pid'} (a serve that did not stop cleanly)`);
  }
}

/**
 * Puts this process's lock in place unless one is there (false). Written whole under a name of its own, then
 * linked into place: the lock never exists without its pid, which another serve reading it in between took
 * for a lock naming none, and took over.
 */
async function linkLock(dir: string, file: string): Promise<boolean> {
  const mine = `${file}.${process.pid}.${++tries}`;
  await writeFile(mine, `${process.pid}\n`, { mode: 0o600 }).catch((e: unknown) => {
    throw new StateWriteError(`cannot write in the state folder ${dir}: ${errnoReason(e)}`);
  });
  try {
    await link(mine, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    await unlink(mine).catch(() => {});
  }
}

/** the pid a lock file names, or undefined when there is none (gone, or empty while being written) */
async function pidIn(file: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

const busy = (dir: string, file: string, pid: number) =>
  new StateFolderBusy(
    `state folder ${dir} is in use by another geoflux serve (pid ${pid}, in ${file}): two serves on one state folder lose each other's deployments; stop that one, or give this workflow a state folder of its own (state: in the workflow); if no geoflux serve runs (pid ${pid} is now another program's), delete ${file}`,
  );

function held(dir: string, file: string, log: Logger, clock: Clock, every: number): StateLock {
  // a process that exits without stopping serve (a second Ctrl-C) leaves no lock behind for the next start to warn of
  const onExit = () => releaseSync(file);
  process.once('exit', onExit);
  let timer: unknown;
  let released = false;
  // said when it changes, not at every look: a lock another serve holds would otherwise be said every 10 s
  let said: string | undefined;
  const look = async () => {
    const now = await stillHeld(dir, file);
    if (now !== undefined && now !== said) log.warn(now);
    said = now;
  };
  const watch = () => {
    timer = clock.setTimeout(() => void look().finally(() => released || watch()), every);
  };
  watch();
  return {
    async release() {
      released = true;
      clock.clearTimeout(timer);
      process.off('exit', onExit);
      if ((await pidIn(file)) === process.pid) await unlink(file).catch(() => {});
    },
  };
}

/**
 * The state folder deleted (or cleaned) while serve runs took the lock with it: the next deploy made the
 * folder again without it, and a second serve on the folder then started. Looked at on a slow timer (one
 * small read), the lock is put back, so that a second serve is refused again, and the loss is said once.
 */
async function stillHeld(dir: string, file: string): Promise<string | undefined> {
  const pid = await pidIn(file);
  if (pid === process.pid) return undefined;
  const lost = 'what the folder held went with it: the certificate (a restart makes a new one, whose hash pinned clients then need) and the deployments (deploy them again, or a restart starts without them)';
  try {
    await makeFolder(dir, 'the state folder');
    if (pid === undefined && (await linkLock(dir, file))) return `state folder ${dir}: its lock ${file} was gone (the folder deleted or cleaned while serve runs?): taken again, so a second serve on it is refused; ${lost}`;
    return `state folder ${dir}: its lock ${file} was gone, and another process now holds it (pid ${(await pidIn(file)) ?? 'unknown'}): two serves on one state folder lose each other's deployments; stop one of them`;
  } catch (e) {
    return `state folder ${dir}: its lock ${file} is gone and cannot be taken again (${(e as Error).message}); ${lost}`;
  }
}

function releaseSync(file: string): void {
  try {
    // only our own: a lock taken over after ours was lost is the other serve's
    if (Number.parseInt(readFileSync(file, 'utf8'), 10) === process.pid) unlinkSync(file);
  } catch {
    // already gone
  }
}
