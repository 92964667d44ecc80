import { randomUUID } from 'node:crypto';
import { tapLogLines, type LogLine } from '../log/logger.ts';
import { functionNameOf } from './versioned-name.ts';

/** lines kept per function: what `geoflux logs` shows without --follow */
export const LINES_KEPT = 200;

/** A function's lines from `after` on (a count of its lines so far), and the count to ask from next. */
export interface LogsSince {
  lines: string[];
  next: number;
  /** lines after `after` no longer kept (more came than the ring holds) */
  missed: number;
  /** this serve, for a follower to tell it from one started again, whose counts begin at 0 */
  serve: string;
}

/**
 * The recent log lines of each function of a serve, for `geoflux logs`: a ring of LINES_KEPT per function,
 * with a count of every line it ever had, so a follower asks for what came after the last it saw. Lines
 * come from the function's threads (runtime/module-thread.ts hands them on) and from this thread's loggers
 * that name it (a function run in the zipper's thread, a sink, a deployment's own lines).
 */
export class FunctionLogs {
  private readonly rings = new Map<string, { lines: string[]; count: number }>();
  private readonly serve = randomUUID();
  private readonly untap: () => void;

  constructor() {
    this.untap = tapLogLines((l) => {
      for (const fn of functionsOf(l)) this.add(fn, l.line);
    });
  }

  /** `fn`: the function's name, or a deployed version's (`speeding@2`) */
  add(fn: string, line: string): void {
    const name = functionNameOf(fn);
    let ring = this.rings.get(name);
    if (!ring) this.rings.set(name, (ring = { lines: [], count: 0 }));
    ring.lines.push(line);
    ring.count++;
    if (ring.lines.length > LINES_KEPT) ring.lines.shift();
  }

  since(name: string, after = 0): LogsSince {
    const ring = this.rings.get(name) ?? { lines: [], count: 0 };
    const first = ring.count - ring.lines.length;
    const from = Math.max(after, first);
    return { lines: ring.lines.slice(from - first), next: ring.count, missed: from - after, serve: this.serve };
  }

  close(): void {
    this.untap();
  }
}

/**
 * The functions a line of this thread is about: as its logger says (serve's lines of a function's crash,
 * restart, scaling or deployment; a host thread's restart is about each function it hosts), or by its
 * component (log/logger.ts children: `sfn speeding/kernel speeding`; a version's, `sfn speeding v2`, is its
 * function's).
 */
export function functionsOf(l: LogLine): readonly string[] {
  if (l.about?.length) return l.about;
  const own = /^(?:sfn|fleet|sink) ([^/ ]+)/.exec(l.component)?.[1];
  return own ? [own] : [];
}
