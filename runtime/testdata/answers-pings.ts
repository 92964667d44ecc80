// A module thread that only answers pings, with the size of its young generation; given { hangAfter: ms } it
// stops answering then (an endless loop), given { churn: true } it first makes much short-lived garbage, as
// a thread passing frames through does.
import { getHeapSpaceStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';

const { hangAfter, churn } = (workerData ?? {}) as { hangAfter?: number; churn?: boolean };
if (churn) {
  let kept: unknown[] = [];
  for (let i = 0; i < 3_000_000; i++) {
    kept.push({ i, fix: [i, i] });
    if (kept.length > 100_000) kept = [];
  }
}
const youngMb = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 2 ** 20;
parentPort!.on('message', (m: { geoflux?: string }) => {
  if (m.geoflux === 'ping') parentPort!.postMessage({ geoflux: 'pong', stats: { youngMb: youngMb() } });
});
if (hangAfter !== undefined) setTimeout(() => {
  for (;;);
}, hangAfter);
parentPort!.postMessage({ geoflux: 'ready' });
