import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { batchBy } from './batch-by.ts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('batchBy', () => {
  it('emits a batch when it is full', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abcde|').pipe(batchBy({ max: 2, ms: 100 }))).toBe('-x-y-(z|)', { x: ['a', 'b'], y: ['c', 'd'], z: ['e'] });
    });
  });

  it('emits what it has when the time is up, and nothing for an empty interval', () => {
    scheduler().run(({ cold, expectObservable }) => {
      // a at 0, b at 5, done at 26: one batch at 10, the empty intervals at 20 and at the end emit nothing
      expectObservable(cold('a 4ms b 20ms |').pipe(batchBy({ max: 10, ms: 10 }))).toBe('10ms x 15ms |', { x: ['a', 'b'] });
    });
  });
});
