import { describe, expect, it } from 'vitest';
import { BusyShare } from './busy-share.ts';

describe('BusyShare', () => {
  it('says nothing until a window is whole, then the busy share of the last whole window', () => {
    const b = new BusyShare(2000);
    b.sample({ idle: 100, active: 900 });
    expect(b.share).toBeUndefined();
    b.sample({ idle: 1100, active: 1400 });
    expect(b.share).toBeUndefined();
    b.sample({ idle: 2600, active: 1900 });
    // since the first sample: 2,500 ms idle, 1,000 busy
    expect(b.share).toBeCloseTo(1000 / 3500);
    b.sample({ idle: 2700, active: 3700 });
    expect(b.share).toBeCloseTo(1000 / 3500);
    b.sample({ idle: 2800, active: 5600 });
    // since the last whole window: 200 ms idle, 3,700 busy
    expect(b.share).toBeCloseTo(3700 / 3900);
  });
});
