// A function that holds its answer to the end, as a map matcher holds its last fixes: it counts the fixes
// it takes and emits one tally when it is stopped.
import type { BatchHandler } from '../../../index.ts';

export const observe = ['gps'];
export const batches = (): BatchHandler => {
  let fixes = 0;
  return {
    process(b) {
      fixes += b.n;
      return [];
    },
    flush: () => [{ kind: 'tally', deviceId: 'all', fixes }],
  };
};
