// The outlier guard the event kernels share (geofence, roam): a fix no vehicle could have driven to from its
// last good one is ignored, but only one or two in a row. Not a kernel itself (it exports no `process`).
import { StateReader, StateWriter } from './abi';
import { localMetres } from './geo';

/** after this many refused in a row (too far, or too old) the device has moved (after a dropout, say) or its clock was put right, and its next fix is taken */
const MAX_REFUSED_IN_A_ROW: u32 = 2;

/** A device's last fix the guard let through (its position is the kernel's to set), and how many it has refused since. */
export class Track {
  lon: f64 = NaN;
  lat: f64 = NaN;
  t: f64 = NaN;
  refused: u32 = 0;

  /** its part of a snapshot: f64 lon · f64 lat · f64 t · u32 refused */
  writeTrack(w: StateWriter): void {
    w.f64(this.lon);
    w.f64(this.lat);
    w.f64(this.t);
    w.u32(this.refused);
  }

  readTrack(r: StateReader): void {
    this.lon = r.f64();
    this.lat = r.f64();
    this.t = r.f64();
    this.refused = r.u32();
  }
}

/**
 * Is the fix older than the device's last one taken? Out of order (a late delivery, a replayed spool) it would
 * move the device back in time: it is skipped, as the ABI's `skipped` counter says, not taken as news. But
 * only a few in a row, as outliers are: a device whose every fix is older was wrong before (a clock set
 * years ahead, then put right), and would otherwise be skipped until its clock caught up.
 */
export function isLate(d: Track, t: f64): bool {
  if (!(t < d.t) || d.refused >= MAX_REFUSED_IN_A_ROW) return false;
  d.refused++;
  return true;
}

/** A fix taken without the outlier guard (raw events): its time is the device's now. */
export function taken(d: Track, t: f64): void {
  d.refused = 0;
  d.t = t;
}

/**
 * Is the fix further from the device's last good one than `maxSpeed` allows in the time between (plus what
 * two fixes' noise can put between them)? Refused fixes are counted on the track; a taken one moves its time.
 */
export function isOutlier(d: Track, t: f64, x: f64, y: f64, acc: f64, maxSpeed: f64): bool {
  if (!isNaN(d.t) && d.refused < MAX_REFUSED_IN_A_ROW) {
    const slack = isNaN(acc) ? 30 : 3 * acc; // ~3σ·√2 between two noisy fixes, 10 m receivers when unsaid
    if (localMetres(d.lon, d.lat, x, y) > maxSpeed * Math.max(0, (t - d.t) / 1000) + slack) {
      d.refused++;
      return true;
    }
  }
  taken(d, t);
  return false;
}
