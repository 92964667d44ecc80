/** A small leveled logger: one line per event, to stderr, so stdout stays for data (alerts, JSON lines). */

export type Level = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(component: string): Logger;
}

let threshold: Level = (process.env.GEOFLUX_LOG as Level) in RANK ? (process.env.GEOFLUX_LOG as Level) : 'info';
const sink = (line: string): void => void process.stderr.write(line + '\n');

export const logLevel = (): Level => threshold;

export const setLogLevel = (level: Level): void => {
  if (!(level in RANK)) throw new Error(`unknown log level "${level}" (debug, info, warn, error, silent)`);
  threshold = level;
};

export function logger(component: string): Logger {
  const at = (level: Exclude<Level, 'silent'>) => (msg: string) => {
    if (RANK[level] >= RANK[threshold]) sink(`${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} [${component}] ${msg}`);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (sub) => logger(`${component}/${sub}`),
  };
}
