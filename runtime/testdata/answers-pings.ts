// A module thread that only answers pings; given { hangAfter: ms } it stops answering then (an endless loop).
// Told { geoflux: 'hang', call } it says 'hanging' and loops at once: in a kernel call (call: true, marked as
// run-kernel marks one) or outside any (as a start-up's loads).
import { parentPort, workerData } from 'node:worker_threads';
import { runningCall, runningCallCell } from '../running-call.ts';

const port = parentPort!;
port.postMessage({ geoflux: 'calls', cell: runningCallCell() });
const loop = () => {
  for (;;);
};
port.on('message', (m: { geoflux?: string; call?: boolean }) => {
  if (m.geoflux === 'ping') port.postMessage({ geoflux: 'pong', stats: null });
  else if (m.geoflux === 'hang') {
    port.postMessage({ geoflux: 'hanging' });
    if (m.call) runningCall(loop);
    else loop();
  }
});
const { hangAfter } = (workerData ?? {}) as { hangAfter?: number };
if (hangAfter !== undefined) setTimeout(loop, hangAfter);
port.postMessage({ geoflux: 'ready' });
