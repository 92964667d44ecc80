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
 * that is no change to anyone). Inside at its first sample counts as an enter, dated then, if it holds too:
 * a vehicle that starts inside and leaves at once makes neither an enter nor an exit, as a pair of vehicles
 * that starts near and parts at once makes no roam event (bench/roam-events.ts). Samples in time order.
 */
export function trueFenceEvents(samples: readonly TrueSample[], hold: number): FenceChange[] {
  const byDevice = new Map<string, TrueSample[]>();
  for (const s of samples) (byDevice.get(s.deviceId) ?? byDevice.set(s.deviceId, []).get(s.deviceId)!).push(s);
  const events: FenceChange[] = [];
  for (const [deviceId, track] of byDevice) {
    const fences = new Set(track.flatMap((s) => s.fences));
    for (const fence of fences) {
      const state = new HeldState(hold);
      track.forEach((s) => {
        const t = state.sample(s.fences.includes(fence), s.t);
        if (t !== undefined) events.push({ deviceId, fence, detect: state.held ? 'enter' : 'exit', t });
      });
    }
  }
  return events.sort((a, b) => a.t - b.t);
}

/** One membership (a vehicle in a fence, two vehicles near), sample by sample: its changes that hold `hold` ms. */
export class HeldState {
  held = false;
  /** the first sample of the run that differs from `held` (NaN: none) */
  private from = NaN;

  constructor(private readonly hold: number) {}

  /** the time of the change that has held up to this sample, else undefined */
  sample(inside: boolean, t: number): number | undefined {
    if (inside === this.held) return void (this.from = NaN);
    if (Number.isNaN(this.from)) this.from = t;
    if (t - this.from < this.hold) return undefined;
    const at = this.from;
    this.held = inside;
    this.from = NaN;
    return at;
  }

  /** far with nothing pending: no need to keep it */
  get idle(): boolean {
    return !this.held && Number.isNaN(this.from);
  }
}
