/** What a device's retained state topic says: where it was last matched, and the fences it is inside. */
export interface DeviceState {
  deviceId: string;
  t?: number;
  time?: string;
  lon?: number;
  lat?: number;
  speed?: number | null;
  edge?: number;
  wayId?: number;
  fences: string[];
}

type Event = Record<string, any>;

/**
 * Folds events into per-device state; `take()` hands over the devices that changed since the last call,
 * so a busy device is published once per period, not once per fix.
 */
export class DeviceStates {
  private readonly states = new Map<string, DeviceState>();
  private readonly dirty = new Set<string>();

  update(e: Event): void {
    const id = e.deviceId;
    if (typeof id !== 'string') return;
    const matched = e.kind === 'mapmatch' && e.detect === 'matched';
    const fence = e.kind === 'geofence' && (e.detect === 'enter' || e.detect === 'exit') ? String(e.fence?.name || e.fence?.id) : undefined;
    if (!matched && !fence) return;
    let s = this.states.get(id);
    if (!s) this.states.set(id, (s = { deviceId: id, fences: [] }));
    if (matched) Object.assign(s, { t: e.t, time: e.time, lon: e.point[0], lat: e.point[1], speed: e.speed, edge: e.edge, wayId: e.wayId });
    else if (e.detect === 'enter') s.fences.includes(fence!) || s.fences.push(fence!);
    else s.fences = s.fences.filter((f) => f !== fence);
    this.dirty.add(id);
  }

  take(): DeviceState[] {
    const out = [...this.dirty].map((id) => this.states.get(id)!);
    this.dirty.clear();
    return out;
  }
}
