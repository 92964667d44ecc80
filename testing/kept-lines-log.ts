import type { Logger } from '../log/logger.ts';

/** a logger that keeps its lines, each as `level message` (debug left out), for a test to read */
export function keptLinesLog(): Logger & { said: string[] } {
  const said: string[] = [];
  const log = { said, debug() {}, info: (m: string) => void said.push(`info ${m}`), warn: (m: string) => void said.push(`warn ${m}`), error: (m: string) => void said.push(`error ${m}`), child: () => log, about: () => log };
  return log;
}
