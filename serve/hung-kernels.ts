import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { object, record, string, type Made } from '../codecs/shape-check.ts';
import { kernelPath } from '../kernels/host/load-module.ts';
import type { Logger } from '../log/logger.ts';
import { readStateJson, writeAtomically } from '../transport/state-files.ts';
import { sha256 } from './deployment-store.ts';

/**
 * The modules of users' kernels (.wasm files) that hung a host thread they shared with geoflux's own
 * functions, by the SHA-256 of their bytes: an instance of one starts in a host thread kept apart, whatever
 * function runs it (the trial undeployed a looping kernel and deployed the same file under a new name, and its
 * hang restarted the demo's functions again), whatever its params (a module that looped once is suspect with
 * any), and a module changed by a byte is new. Kept in the state folder's `hung-kernels.json`, so that a
 * restart of serve does not start such a module in a shared host again; an operator who trusts a module again
 * removes its entry (or the file) before serve starts.
 */

const savedHung = record(object({ function: string, at: string }, 'dropped'));

/** what is remembered of a module that hung: the function it ran as, and when */
export type HungKernel = Made<typeof savedHung>[string];

export class HungKernels {
  /** written one after another, so that the last write holds every module */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly hung: Record<string, HungKernel> = {},
    /** where they are kept; none: for as long as this serve runs (tests of the hosts alone) */
    private readonly file?: string,
    private readonly log?: Logger,
  ) {}

  /** a file that cannot be read costs only what it held (those modules start in shared hosts again): said, not fatal */
  static async load(stateDir: string, log: Logger): Promise<HungKernels> {
    const file = join(stateDir, 'hung-kernels.json');
    let hung: Record<string, HungKernel> = {};
    try {
      hung = (await readStateJson(file, savedHung)) ?? {};
    } catch (e) {
      log.warn(`${file}: not used (${(e as Error).message}): kernels that hung a shared host thread before start in one again`);
    }
    return new HungKernels(hung, file, log);
  }

  /** no module is remembered: an instance's start need not hash its kernel */
  get none(): boolean {
    return Object.keys(this.hung).length === 0;
  }

  /** what is remembered of the module with this hash, if it hung a host thread */
  of(hash: string | undefined): HungKernel | undefined {
    return hash === undefined ? undefined : this.hung[hash];
  }

  /** the module with this hash hung a host thread it shared, as function `fn`: kept, and written to the state folder */
  remember(hash: string, fn: string): void {
    if (this.hung[hash]) return;
    this.hung[hash] = { function: fn, at: new Date().toISOString() };
    const file = this.file;
    if (!file) return;
    const text = JSON.stringify(this.hung, null, 2) + '\n';
    this.writing = this.writing.then(() =>
      writeAtomically(file, text, 0o600).catch((e: Error) => this.log?.warn(`${file}: could not be written (${e.message}): after a restart of serve, kernels that hung a shared host thread start in one again`)),
    );
  }
}

/**
 * The SHA-256 of a kernel file's bytes, read as it is now; undefined when it cannot be read (its instance's
 * start says why). Read in serve's thread, at a host's hang and at the start of a user's kernel instance
 * while some module is remembered: a deployed module is a few hundred KB at most (sub-millisecond).
 */
export function moduleHash(kernel: string, baseDir: string): string | undefined {
  try {
    return sha256(readFileSync(kernelPath(kernel, baseDir)));
  } catch {
    return undefined;
  }
}
