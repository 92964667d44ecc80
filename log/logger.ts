import { printable } from '../codecs/control-characters.ts';

/** A small leveled logger: one line per event, to stderr, so stdout stays for data (alerts, JSON lines). */

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
export const LEVELS = Object.keys(RANK) as Level[];

/** `WARN` and `warn` alike (an operator's environment is written in capitals as often as not); undefined for no level */
export const parseLevel = (text: string): Level | undefined => {
  const level = text.trim().toLowerCase();
  return Object.hasOwn(RANK, level) ? (level as Level) : undefined;
};

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(component: string): Logger;
  /** the same component, its lines also filed under each of `subjects` for a tap (the functions a line is about) */
  about(...subjects: string[]): Logger;
}

let threshold: Level = parseLevel(process.env.GEOFLUX_LOG ?? '') ?? 'info';
const sink = (line: string): void => void process.stderr.write(line + '\n');

export const logLevel = (): Level => threshold;

export const setLogLevel = (level: Level): void => {
  if (!Object.hasOwn(RANK, level)) throw new Error(`unknown log level "${level}" (debug, info, warn, error, silent)`);
  threshold = level;
};

/** A line as it is printed, with the component that said it (`sfn speeding/kernel speeding`) and what it is about. */
export interface LogLine {
  component: string;
  line: string;
  about?: readonly string[];
}

const taps = new Set<(l: LogLine) => void>();

/**
 * Hands every line of this thread to `tap` as well (serve keeps each function's recent lines for `geoflux
 * logs`): those printed, and info and above also when the level prints fewer. Returns the way to stop.
 */
export function tapLogLines(tap: (l: LogLine) => void): () => void {
  taps.add(tap);
  return () => void taps.delete(tap);
}

export function logger(component: string, about?: readonly string[]): Logger {
  const at = (level: Exclude<Level, 'silent'>) => (msg: string) => {
    const printed = RANK[level] >= RANK[threshold];
    if (!printed && !(taps.size && RANK[level] >= RANK.info)) return;
    // a message may quote a record's own fields (a device's id, a topic, a user's field): a terminal shows them, not acts on them
    const line = printable(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${component}] ${msg}`);
    if (printed) sink(line);
    for (const tap of taps) tap({ component, line, about });
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (sub) => logger(`${component}/${sub}`, about),
    about: (...subjects) => logger(component, subjects),
  };
}

/**
 * `log`, each line about the subjects `subjects()` names as it is said: a thread that hosts functions which
 * come and go (serve/function-hosts.ts) says its restarts about those it hosts then.
 */
export function aboutNow(log: Logger, subjects: () => string[]): Logger {
  const now = () => log.about(...subjects());
  return {
    debug: (msg) => now().debug(msg),
    info: (msg) => now().info(msg),
    warn: (msg) => now().warn(msg),
    error: (msg) => now().error(msg),
    child: (sub) => aboutNow(log.child(sub), subjects),
    about: (...s) => log.about(...s),
  };
}
