import { describe, expect, it } from 'vitest';
import { chooseHost } from './choose-host.ts';

const host = (instances: number, busy?: number, runsIt = false) => ({ instances, busy, runsIt });

describe('chooseHost', () => {
  it('spreads: a new host while fewer than the size and each has an instance, then the one with fewest', () => {
    expect(chooseHost([], 2, false)).toBe(-1);
    expect(chooseHost([host(1, 0.1)], 2, false)).toBe(-1);
    expect(chooseHost([host(0, 0.1), host(1)], 2, false)).toBe(0);
    expect(chooseHost([host(3), host(2)], 2, false)).toBe(1);
  });

  it('by load: the least busy host with room, even where spreading would start a new one', () => {
    expect(chooseHost([host(1, 0.05)], 2, true)).toBe(0);
    expect(chooseHost([host(1, 0.3), host(4, 0.1)], 2, true)).toBe(1);
  });

  it('by load: not where the same function runs already, whose instances share the work over cores', () => {
    expect(chooseHost([host(1, 0.05, true)], 2, true)).toBe(-1);
    expect(chooseHost([host(1, 0.05, true), host(2, 0.2)], 2, true)).toBe(1);
  });

  it('by load, with no host that has room or whose load is known yet: spreads', () => {
    expect(chooseHost([host(1, 0.9)], 2, true)).toBe(-1);
    expect(chooseHost([host(1)], 2, true)).toBe(-1);
    expect(chooseHost([host(1, 0.9), host(3, 0.7)], 2, true)).toBe(0);
  });
});
