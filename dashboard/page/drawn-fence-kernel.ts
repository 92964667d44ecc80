import { createGeofence, type GeofenceEvent, type GeofenceKernel, type GpsRecord } from '../../kernels/browser.ts';
import type { Polygon } from './draw-fence.ts';

/**
 * The geofence kernel in the page: the very geofence.wasm the edge runs, served by the dashboard and run
 * with geoflux's browser WASI shim (kernels/host/browser-wasi.ts), against the fence the user drew. Every
 * new fix the page gets goes through it, in the order it came, so its events are the ones Node's kernel
 * gives for the same fixes.
 */
export class DrawnFenceKernel {
  private constructor(private readonly kernel: GeofenceKernel) {}

  static async create(fence: Polygon): Promise<DrawnFenceKernel> {
    return new DrawnFenceKernel(await createGeofence({ fences: { type: 'FeatureCollection', features: [fence] }, detect: ['enter', 'exit'] }, { wasm: '/kernels/geofence.wasm' }));
  }

  process(fixes: readonly GpsRecord[]): GeofenceEvent[] {
    return fixes.length ? this.kernel.process(fixes) : [];
  }
}
