// A page that runs the geofence kernel itself: bundled for the browser, it must pull in nothing of Node.
import { createGeofence } from 'geoflux/kernels';

export async function fenceEvents(wasm, fixes) {
  const square = { type: 'Feature', id: 'yard', properties: {}, geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]] } };
  const k = await createGeofence({ fences: square, detect: ['enter', 'exit'], debounce: false }, { wasm });
  return k.process(fixes).map((e) => `${e.detect} ${e.fence.id} ${e.deviceId}`);
}
