import { expect, it } from 'vitest';
import { logger, tapLogLines } from './logger.ts';

it('prints a message\'s control characters escaped: a record\'s field quoted in a log line cannot clear the terminal', () => {
  const lines: string[] = [];
  const untap = tapLogLines((l) => lines.push(l.line));
  try {
    logger('sink test').warn('dropped a fix of "\u001b[2J" on topic fleet/\u009b2J');
  } finally {
    untap();
  }
  expect(lines).toEqual([expect.stringMatching(/ WARN  \[sink test\] dropped a fix of "\\x1b\[2J" on topic fleet\/\\x9b2J$/)]);
});
