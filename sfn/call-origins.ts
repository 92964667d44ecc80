import type { Origin } from '../client/record-writer.ts';
import { placeOf } from '../codecs/event-ids.ts';
import { hash32 } from '../zipper/hash-ring.ts';

/**
 * Where the fixes of one call of a batch handler came from: the source of each device's fixes in the call's
 * frames (the last frame's, for a device in several), and the call's last frame. An event's id names them, so
 * that a source's resend makes the same ids and another run of it (a new source) new ones. Made as the
 * frames are taken and kept with the call's events until they are released, then let go: a device that sends
 * from another source meanwhile does not change them, and nothing is kept of a device that stopped sending.
 */
export class CallOrigins {
  /** the call's last frame's origin (none before any call) */
  readonly origin: Origin | undefined;
  /** by device, made at the first event that needs it: most calls make no event */
  private sources: Map<string, string> | undefined;

  constructor(private readonly frames: readonly { devices: readonly string[]; origin: Origin }[]) {
    this.origin = frames.at(-1)?.origin;
  }

  /**
   * what made an event: the source of its device's fixes in the call, at its own place on the device's
   * timeline (a kernel's event carries its fix's time), or else the call's last frame (an event about a
   * device with no fix in the call too); `after` sets what follows the call apart (what a handler holds to its
   * end is emitted by flush)
   */
  moment(after = ''): (event: unknown) => string {
    return (event) => {
      const place = placeOf(event);
      const origin = this.origin;
      // one input frame may reach a function as several (a writer splits what it was given): its sequence
      // number alone does not tell their events apart, their content does
      if (!place) return `${origin ? `${origin.sid}:${origin.seq}` : 'none'}${after}:${hash32(JSON.stringify(event)).toString(16)}`;
      return `${this.sourceOf((event as { deviceId: string }).deviceId) ?? origin?.sid ?? 'none'}:${place}`;
    };
  }

  private sourceOf(device: string): string | undefined {
    if (!this.sources) {
      this.sources = new Map();
      for (const f of this.frames) for (const d of f.devices) this.sources.set(d, f.origin.sid);
    }
    return this.sources.get(device);
  }
}
