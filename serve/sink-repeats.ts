import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { array, record, string } from '../codecs/shape-check.ts';
import { logger, type Logger } from '../log/logger.ts';
import { OncePerId } from '../sinks/once-per-id.ts';
import { readStateJson, writeAtomically } from '../transport/state-files.ts';

const savedIds = record(array(string));

/**
 * Each sink function's OncePerId (one for all its instances: a resend may reach another), and the ids they
 * took kept across a restart in the state folder's `sink-ids.json`: written at a stop in which every sink
 * published all it took, read (and removed) at the next start. Without the file a restart's resends are
 * published again, with the ids they had, for a subscriber to drop (docs/failure-handling.md).
 */
export class SinkRepeats {
  private readonly byFn = new Map<string, OncePerId>();

  private constructor(
    private readonly path: string,
    private readonly seen: Record<string, string[]>,
  ) {}

  /** a file that cannot be read costs only the ids it held: said, not fatal */
  static async load(stateDir: string, log: Logger): Promise<SinkRepeats> {
    const path = join(stateDir, 'sink-ids.json');
    let seen: Record<string, string[]> = {};
    try {
      seen = (await readStateJson(path, savedIds)) ?? {};
    } catch (e) {
      log.warn(`${path}: not used (${(e as Error).message}): events resent after the restart may be published twice`);
    }
    // used once: a later start after a crash must not take ids older than what that run published
    await rm(path, { force: true }).catch((e: Error) => log.warn(`${path}: could not be removed (${e.message}): a later start may read these ids again`));
    return new SinkRepeats(path, seen);
  }

  of(fn: string): OncePerId {
    let once = this.byFn.get(fn);
    if (!once) this.byFn.set(fn, (once = new OncePerId(logger(`sink ${fn}`), this.seen[fn])));
    return once;
  }

  /** events dropped as repeats, by sink function */
  dropped(): { fn: string; dropped: number }[] {
    return [...this.byFn].map(([fn, once]) => ({ fn, dropped: once.dropped }));
  }

  async save(): Promise<void> {
    await writeAtomically(this.path, JSON.stringify(Object.fromEntries([...this.byFn].map(([fn, once]) => [fn, once.ids()]))), 0o600);
  }
}
