import { describe, expect, it } from 'vitest';
import type { FunctionInstance } from '../runtime/module-thread.ts';
import { instanceCounts } from './retired-counts.ts';

// an instance whose host restarted once: the incarnation before counted 5 records and its kernel 3 skipped; the
// one after, restored from the snapshot, 2 records and the kernel's skipped on from 3 to 4
const restarted = {
  restarts: { hung: 1 },
  retired: [{ received: 5, kernel: { traps: 1, counters: { skipped: 3 } } }],
  stats: { received: 2, kernel: { traps: 0, counters: { skipped: 4 } } },
} as unknown as FunctionInstance;

describe('what a retired instance leaves', () => {
  it('sums what each incarnation counted, but keeps its kernel’s own counters as the last one restored and carried them', () => {
    expect(instanceCounts(restarted).total).toEqual({ received: 7, kernel: { traps: 1, counters: { skipped: 4 } } });
  });
});

describe('what a closed instance leaves', () => {
  it('reads its kernel’s counters from its last report, which its close put among the earlier ones', () => {
    const closed = { restarts: {}, retired: [{ received: 5, kernel: { counters: { skipped: 3 } } }, { received: 2, kernel: { counters: { skipped: 4 } } }], stats: undefined } as unknown as FunctionInstance;
    expect(instanceCounts(closed).total).toEqual({ received: 7, kernel: { counters: { skipped: 4 } } });
  });
});
