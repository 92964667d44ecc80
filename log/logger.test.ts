import { expect, it } from 'vitest';
import { aboutNow, logger, logLevel, setLogLevel, tapLogLines } from './logger.ts';

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

it('says a line about the subjects named as it is said (a host thread, about the functions it hosts then)', () => {
  const seen: (readonly string[] | undefined)[] = [];
  const was = logLevel();
  setLogLevel('silent');
  const untap = tapLogLines((l) => seen.push(l.about));
  let hosted = ['looper', 'mapmatch'];
  try {
    const log = aboutNow(logger('serve'), () => hosted);
    log.warn('host thread #1 hung');
    hosted = ['mapmatch'];
    log.child('thread').warn('host thread #1: restarting');
    logger('serve').about('a', 'b').info('about two');
  } finally {
    untap();
    setLogLevel(was);
  }
  expect(seen).toEqual([['looper', 'mapmatch'], ['mapmatch'], ['a', 'b']]);
});
