import { describe, expect, it } from 'vitest';
import { TestScheduler } from 'rxjs/testing';
import { logger } from '../../log/logger.ts';
import congestion from './congestion.ts';

const trav = (speed: number, length = 50, limit = 14) => ({ kind: 'mapmatch', detect: 'traversal', speed, length, limit });

describe('congestion', () => {
  it('keeps traversals driven below the share of the limit, long enough to mean something', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      const values = { a: trav(3), b: trav(10), c: trav(2, 5), d: { kind: 'mapmatch', detect: 'matched', speed: 1 }, e: trav(5.5) };
      const in$ = cold('a-b-c-d-e|', values);
      expectObservable(congestion(in$, { name: 'c', params: { below: 0.4 }, log: logger('test') })).toBe('a-------e|', values);
    });
  });
});
