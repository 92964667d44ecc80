import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkShape, type Check } from '../codecs/shape-check.ts';

/**
 * Writing the state folder (its certificate, deployments and their modules, saved states, sinks' ids): a
 * failure is one line naming the path and the errno, which an operator acts on (a full disk, a read-only
 * mount), not a stack trace.
 */

/** A file or folder of serve's state that could not be written. */
export class StateWriteError extends Error {
  override readonly name = 'StateWriteError';
}

/** `no space left on device (ENOSPC)`: Node's `ENOSPC: no space left on device, write` without the call */
export function errnoReason(e: unknown): string {
  const { code, message } = e as NodeJS.ErrnoException;
  const text = /^[A-Z]+: ([^,]+)/.exec(message)?.[1];
  return code && text ? `${text} (${code})` : message;
}

/**
 * mkdir -p, failing with what could not be made and why. mkdir -p names only the last folder, and under a
 * read-only mount says ENOENT: the reason is the first folder of the path that cannot be made (EROFS, EACCES),
 * or the file that stands where a folder should be (ENOTDIR).
 */
export async function makeFolder(dir: string, what: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
  } catch (e) {
    throw new StateWriteError(`cannot create ${what} ${dir}: ${await whyNot(dir, mode, e)}`);
  }
}

async function whyNot(dir: string, mode: number, failed: unknown): Promise<string> {
  const missing: string[] = [];
  for (let p = dir; ; p = dirname(p)) {
    const found = await stat(p).catch((e: NodeJS.ErrnoException) => e);
    if (!(found instanceof Error)) {
      if (!found.isDirectory()) return `${p} is a file, not a folder (ENOTDIR)`;
      break;
    }
    if (found.code !== 'ENOENT' && found.code !== 'ENOTDIR') return `${p}: ${errnoReason(found)}`;
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    const made = await mkdir(p, { mode }).catch((e: NodeJS.ErrnoException) => e);
    if (made instanceof Error && made.code !== 'EEXIST') return `${p === dir ? '' : `${p}: `}${errnoReason(made)}`;
  }
  return errnoReason(failed);
}

/**
 * writeAtomically's temporary file for `path`: unique per write, for two writers of one path in a process
 * (workers of one cluster in a test) must not share it. Its name is the longest serve gives a file of its
 * state: what a name written into one must leave room for (workflows/function-name.ts).
 */
export const temporaryPath = (path: string, pid = process.pid, id = randomBytes(4).toString('hex')): string => `${path}.${pid}.${id}.tmp`;

/**
 * Writes through a temporary file, synced, then renamed over the last, and the folder synced: a crash
 * mid-write never leaves half a key or half a saved state behind, and a power cut after the write neither an
 * empty file nor the old one. A write that fails (a full disk) removes its temporary file, which would
 * otherwise be left in the folder the disk is full of; one cut short by a forced exit leaves it for the next
 * start to remove (removeLeftoverWrites).
 */
export async function writeAtomically(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = temporaryPath(path);
  try {
    const h = await open(tmp, 'w', mode);
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => {});
    throw new StateWriteError(`cannot write ${path}: ${errnoReason(e)}`);
  }
  await syncFolder(dirname(path));
}

/**
 * The rename is an entry of the folder: a power cut before the folder's own sync may lose it (and a deploy
 * acknowledged with it). A folder some filesystems cannot sync (EINVAL on some network mounts, EISDIR where a
 * folder cannot be opened) does not undo a write that is done.
 */
async function syncFolder(dir: string): Promise<void> {
  try {
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch {
    // the write stands; only its durability across a power cut is the filesystem's
  }
}

/** whether process `pid` runs (as any user) */
export function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it runs, as another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A temporary file of writeAtomically (`<name>.<pid>.<8 hex>.tmp`), or of the saved-state writer before it
 * used writeAtomically (`<name>.state.<pid>.tmp`), so that those left by an older version go too.
 */
const LEFTOVER = /\.(?:state\.(\d+)|(\d+)\.[0-9a-f]{8})\.tmp$/;

/** the pid of the writer of such a temporary file, if `name` is one */
const writerOf = (name: string): number | undefined => {
  const m = LEFTOVER.exec(name);
  return m ? Number(m[1] ?? m[2]) : undefined;
};

/**
 * Removes the temporary files that writes cut short (a forced exit between a write and its rename) left in
 * `dirs`: only the writer's own names, so nothing else of the folder's is touched, and only those whose
 * writer no longer runs: a `geoflux worker` that shares the state folder writes its modules there without
 * its lock, and its write under way would lose its temporary file. A folder that does not exist has none.
 */
export async function removeLeftoverWrites(dirs: string[]): Promise<{ removed: string[]; failed: string[] }> {
  const removed: string[] = [];
  const failed: string[] = [];
  // in a container serve may have the same pid every run: a file of "its own" pid older than this process
  // is a run before's
  const started = Date.now() - process.uptime() * 1000;
  const before = async (path: string) => ((await stat(path).catch(() => undefined))?.mtimeMs ?? Infinity) < started;
  for (const dir of dirs) {
    const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [];
      failed.push(`${dir}: ${errnoReason(e)}`);
      return [];
    });
    const left: string[] = [];
    for (const n of names) {
      const pid = writerOf(n);
      if (pid !== undefined && (pid === process.pid ? await before(join(dir, n)) : !running(pid))) left.push(n);
    }
    for (const name of left.sort()) {
      const path = join(dir, name);
      await rm(path).then(
        () => removed.push(path),
        (e: unknown) => failed.push(`${path}: ${errnoReason(e)}`),
      );
    }
  }
  return { removed, failed };
}

/** a JSON file of the state folder, its shape checked: undefined when there is none; throws what is wrong with it */
export async function readStateJson<T>(path: string, shape: Check<T>): Promise<T | undefined> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)));
  if (text === undefined) return undefined;
  const read = checkShape(shape, JSON.parse(text));
  if (read.issues.length) throw new Error(`${read.issues[0].path.join('.')}: ${read.issues[0].message}`);
  return read.value;
}
