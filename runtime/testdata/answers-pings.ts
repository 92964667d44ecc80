// A module thread that only answers pings; given { hangAfter: ms } it stops answering then (an endless loop).
import { parentPort, workerData } from 'node:worker_threads';

parentPort!.on('message', (m: { geoflux?: string }) => {
  if (m.geoflux === 'ping') parentPort!.postMessage({ geoflux: 'pong', stats: null });
});
const { hangAfter } = (workerData ?? {}) as { hangAfter?: number };
if (hangAfter !== undefined) setTimeout(() => {
  for (;;);
}, hangAfter);
parentPort!.postMessage({ geoflux: 'ready' });
