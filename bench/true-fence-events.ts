/** A vehicle's true position at a moment and the fences it is truly in. */
export interface TrueSample {
  deviceId: string;
  t: number;
  fences: readonly string[];
}

export interface FenceChange {
  deviceId: string;
  fence: string;
  detect: 'enter' | 'exit';
  /** epoch ms of the true change */
  t: number;
}

/**
 * The enters and exits a user counts from true positions: a change of a vehicle's membership of a fence that
 * then holds for `hold` ms (a vehicle driving a street that is a border truly crosses it back and forth, and
 * that is no change to anyone). Inside at its first sample counts as an enter. Samples in time order.
 */
export function trueFenceEvents(samples: readonly TrueSample[], hold: number): FenceChange[] {
  const byDevice = new Map<string, TrueSample[]>();
  for (const s of samples) (byDevice.get(s.deviceId) ?? byDevice.set(s.deviceId, []).get(s.deviceId)!).push(s);
  const events: FenceChange[] = [];
  for (const [deviceId, track] of byDevice) {
    const fences = new Set(track.flatMap((s) => s.fences));
    for (const fence of fences) {
      let held = false;
      let from = -1; // the first sample of the run that differs from `held`
      track.forEach((s, i) => {
        const inside = s.fences.includes(fence);
        if (inside === held) return void (from = -1);
        if (from < 0) from = i;
        if (i === 0 || s.t - track[from].t >= hold) {
          events.push({ deviceId, fence, detect: inside ? 'enter' : 'exit', t: track[from].t });
          held = inside;
          from = -1;
        }
      });
    }
  }
  return events.sort((a, b) => a.t - b.t);
}
