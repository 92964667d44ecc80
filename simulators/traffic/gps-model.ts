/**
 * How a vehicle's GPS receiver errs: isotropic Gaussian noise (σ metres on each axis), rare outliers
 * thrown `outlierDistance`–2×`outlierDistance` metres off, dropouts (a gap of some seconds starts with
 * probability `dropoutRate` at each fix), and a clock that is off by a per-vehicle constant plus a small
 * per-fix jitter (kept under half an interval so one device's fixes stay in order).
 */
export interface GpsModel {
  /** seconds between fixes */
  interval: number;
  /** metres, σ on each axis */
  noise: number;
  outlierRate: number;
  outlierDistance: number;
  dropoutRate: number;
  /** a dropout lasts between these many seconds */
  dropoutSeconds: [number, number];
  /** σ of each vehicle's clock offset, seconds */
  clockOffset: number;
  /** σ of per-fix timestamp jitter, seconds */
  clockJitter: number;
}

export const DEFAULT_GPS: GpsModel = {
  interval: 1,
  noise: 5,
  outlierRate: 0.002,
  outlierDistance: 100,
  dropoutRate: 0.002,
  dropoutSeconds: [5, 30],
  clockOffset: 0.5,
  clockJitter: 0.05,
};

export function checkGpsModel(m: GpsModel, what = 'gps'): GpsModel {
  const bad = (field: string, why: string) => new Error(`${what}: ${field} ${why} (got ${JSON.stringify(m[field as keyof GpsModel])})`);
  if (!(m.interval > 0)) throw bad('interval', 'must be > 0 seconds');
  for (const f of ['noise', 'outlierDistance', 'clockOffset', 'clockJitter'] as const) if (!(m[f] >= 0)) throw bad(f, 'must be ≥ 0');
  for (const f of ['outlierRate', 'dropoutRate'] as const) if (!(m[f] >= 0 && m[f] <= 1)) throw bad(f, 'is a probability per fix, between 0 and 1');
  const [lo, hi] = m.dropoutSeconds;
  if (!(lo >= 0 && hi >= lo)) throw bad('dropoutSeconds', 'must be [min, max] seconds with 0 ≤ min ≤ max');
  return m;
}
