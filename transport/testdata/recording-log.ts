import type { Logger } from '../../log/logger.ts';

/** A logger that keeps its lines ("warn lost the zipper …") for a test to read. */
export function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string) => void lines.push(`${level} ${msg}`);
  const log = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log, about: () => log };
  return log;
}
