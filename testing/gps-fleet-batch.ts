import { batchFromRecords, type GpsBatch } from '../codecs/gps-batch.ts';

/** `devices` vehicles' fixes at second `second` (veh-0 … veh-<devices-1>), as one batch: a source's frame. */
export function fleetBatch(devices: number, second: number, prefix = 'veh'): GpsBatch {
  return batchFromRecords(
    Array.from({ length: devices }, (_, i) => ({ deviceId: `${prefix}-${i}`, t: 1_700_000_000_000 + second * 1000, lon: 7.42 + i * 1e-5, lat: 43.73 + second * 1e-5, speed: 10 })),
  );
}
