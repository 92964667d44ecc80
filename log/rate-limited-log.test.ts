import { expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { recordingLog } from '../transport/testdata/recording-log.ts';
import { logger, logLevel, setLogLevel, tapLogLines } from './logger.ts';
import { RateLimitedLog } from './rate-limited-log.ts';

const setup = () => {
  const clock = new ManualClock();
  const log = recordingLog();
  return { clock, log, limited: new RateLimitedLog(log, { clock }) };
};

it('logs the first warning of a kind at once and the count of its repeats when the window ends', () => {
  const { clock, log, limited } = setup();
  for (let i = 0; i < 4096; i++) limited.warn('trap', `row ${i} traps`);
  expect(log.lines).toEqual(['warn row 0 traps']);
  clock.advance(9_999);
  expect(log.lines).toHaveLength(1);
  clock.advance(1);
  expect(log.lines).toEqual(['warn row 0 traps', 'warn … 4,095 more in the last 10 s; the last: row 4095 traps']);
  expect(clock.pending).toBe(0);
});

it('keeps kinds apart, says nothing more for a warning that did not repeat, and starts over after the window', () => {
  const { clock, log, limited } = setup();
  limited.warn('trap', 'a trap');
  limited.warn('frame', 'a malformed frame');
  limited.warn('frame', 'another malformed frame');
  clock.advance(10_000);
  limited.warn('trap', 'a trap again');
  expect(log.lines).toEqual(['warn a trap', 'warn a malformed frame', 'warn … 1 more in the last 10 s; the last: another malformed frame', 'warn a trap again']);
});

it('says what it has counted when flushed (at a close), over the time it counted', () => {
  const { clock, log, limited } = setup();
  limited.warn('redial', 'lost the zipper');
  clock.advance(2_500);
  limited.warn('redial', 'lost the zipper again');
  limited.flush();
  expect(log.lines).toEqual(['warn lost the zipper', 'warn … 1 more in the last 2.5 s; the last: lost the zipper again']);
  expect(clock.pending).toBe(0);
});

it('keeps each warning one line: a newline in what a record or a peer sent cannot start a line of its own', () => {
  const { clock, log, limited } = setup();
  limited.warn('bad', 'a fix of x\n2026-12-07T00:00:00.000Z ERROR [zipper] forged');
  limited.warn('bad', 'a fix of y\nforged too');
  clock.advance(10_000);
  expect(log.lines).toEqual(['warn a fix of x\\n2026-12-07T00:00:00.000Z ERROR [zipper] forged', 'warn … 1 more in the last 10 s; the last: a fix of y\\nforged too']);
});

it("files a function's warnings under it, counting its repeats apart from another function's (geoflux logs shows each its own)", () => {
  const clock = new ManualClock();
  const was = logLevel();
  setLogLevel('silent');
  const seen: { about?: readonly string[]; line: string }[] = [];
  const untap = tapLogLines(({ about, line }) => seen.push({ about, line: line.replace(/^.*\] /, '') }));
  try {
    const limited = new RateLimitedLog(logger('zipper test'), { clock });
    limited.warn('poison', 'looper: dropped a fix', 'looper');
    limited.warn('poison', 'looper: dropped another', 'looper');
    limited.warn('poison', 'sleeper: dropped a fix', 'sleeper');
    limited.warn('poison', 'no one in particular');
    clock.advance(10_000);
  } finally {
    untap();
    setLogLevel(was);
  }
  expect(seen).toEqual([
    { about: ['looper'], line: 'looper: dropped a fix' },
    { about: ['sleeper'], line: 'sleeper: dropped a fix' },
    { about: undefined, line: 'no one in particular' },
    { about: ['looper'], line: '… 1 more in the last 10 s; the last: looper: dropped another' },
  ]);
});
