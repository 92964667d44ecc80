import { describe, expect, it } from 'vitest';
import { lostFixes } from './fix-output.ts';

describe('lostFixes', () => {
  it('says only what is known: not acknowledged is not the same as not arrived; dropped from the spool is', () => {
    expect(lostFixes({ unacked: 0, dropped: 0, refused: 0, waited: 3 }, 200)).toBeUndefined();
    expect(lostFixes({ unacked: 200, dropped: 0, refused: 0, waited: 10_000 }, 200)).toBe('200 of 200 fixes not acknowledged by the zipper within 10000 ms (--ack-timeout): whether they reached it is not known');
    expect(lostFixes({ unacked: 5, dropped: 1_200, refused: 0, waited: 10_000 }, 20_000)).toBe(
      '5 of 20,000 fixes not acknowledged by the zipper within 10000 ms (--ack-timeout): whether they reached it is not known; 1,200 of 20,000 fixes dropped from a full spool: they never reached the zipper',
    );
  });
});
