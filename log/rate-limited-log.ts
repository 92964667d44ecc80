import { oneLine } from '../codecs/control-characters.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';
import type { Logger } from './logger.ts';
import { thousands } from './thousands.ts';

/** how long the repeats of a warning are counted before one line says how many there were */
export const REPEAT_WINDOW_MS = 10_000;

interface Window {
  /** what its lines are said with: about the function the kind is of, when it is one's */
  log: Logger;
  since: number;
  more: number;
  last: string;
  timer: unknown;
}

/**
 * Warnings that can repeat per row, frame or redial, limited by kind: the first of a kind is logged at once,
 * the ones after it within the window only counted, and when the window ends one line says how many there
 * were and what the last one said (`… 4,095 more in the last 10 s; the last: …`). A kernel that trapped on
 * every row of 4,096 used to log 4,096 lines; the log of a flood is now two lines a window, and no repeat
 * goes unsaid. The window's timer never keeps a process alive: `flush()` says what is counted at a close.
 */
export class RateLimitedLog {
  private readonly open = new Map<string, Window>();
  private readonly clock: Clock;
  private readonly windowMs: number;

  constructor(
    private readonly log: Logger,
    o: { windowMs?: number; clock?: Clock } = {},
  ) {
    this.clock = o.clock ?? systemClock;
    this.windowMs = o.windowMs ?? REPEAT_WINDOW_MS;
  }

  /** `about`: the function the warning is of (`geoflux logs` shows it there), whose repeats are counted apart from another's */
  warn(kind: string, said: string, about?: string): void {
    // these say what a record, a device or a peer sent, which must not start a line that reads as ours
    const msg = oneLine(said);
    const key = about === undefined ? kind : `${kind}\0${about}`;
    const w = this.open.get(key);
    if (w) {
      w.more++;
      w.last = msg;
      return;
    }
    const log = about === undefined ? this.log : this.log.about(about);
    log.warn(msg);
    this.open.set(key, { log, since: this.clock.now(), more: 0, last: msg, timer: this.clock.setTimeout(() => this.end(key), this.windowMs) });
  }

  /** Says now how many repeats each window has counted so far, and starts over. */
  flush(): void {
    for (const [kind, w] of this.open) {
      this.clock.clearTimeout(w.timer);
      this.end(kind);
    }
  }

  private end(kind: string): void {
    const w = this.open.get(kind)!;
    this.open.delete(kind);
    const s = (this.clock.now() - w.since) / 1000;
    if (w.more) w.log.warn(`… ${thousands(w.more)} more in the last ${thousands(s, 1)} s; the last: ${w.last}`);
  }
}
