import { expect, it } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { RetryTimer } from './retry-timer.ts';

// the longest delay each time (full jitter draws in [0, cap]): the caps are what is tested
const setup = () => {
  const clock = new ManualClock();
  return { clock, retry: new RetryTimer({ initial: 1000, max: 30_000, timers: clock, random: () => 0.999_999_9 }) };
};

it('waits 1 s, then twice as long each time, up to 30 s; a reset starts over', () => {
  const { clock, retry } = setup();
  let ran = 0;
  const delays = Array.from({ length: 7 }, () => retry.schedule(() => ran++));
  expect(delays).toEqual([999, 1999, 3999, 7999, 15_999, 29_999, 29_999]);
  // one thing waits at a time: a schedule replaces the one before
  expect(clock.pending).toBe(1);
  clock.advance(29_999);
  expect(ran).toBe(1);
  retry.reset();
  expect(retry.schedule(() => ran++)).toBe(999);
});

it('runs nothing once ended, neither what waits nor what is scheduled after', () => {
  const { clock, retry } = setup();
  let ran = 0;
  retry.schedule(() => ran++);
  retry.end();
  expect(clock.pending).toBe(0);
  expect(retry.schedule(() => ran++)).toBeUndefined();
  clock.advance(60_000);
  expect(ran).toBe(0);
});
