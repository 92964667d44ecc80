import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { countedIn } from '../transport/port.ts';
import { fmt, table } from './stats.ts';

/**
 * What a function thread's counters on each ack (AckFrame.counted, runtime/module-thread.ts) cost serve's
 * thread: a worker posts acks as transport/port.ts does (one list per ack, at once), bare or carrying the
 * counters connectStreamFunction reports, and serve's side reads them as ModuleThread does. Measured: the
 * receiving thread's busy time (event loop utilisation × wall time) per ack.
 */

const ACKS = 100_000;
const RUNS = 5;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const stats = { connected: true, reconnects: 0, received: 0, duplicates: 0, errors: 0, emitted: 0, inFlight: 0, kernel: undefined };
let n = 0;
for (let seq = 1; seq <= workerData.acks; seq++) {
  stats.received += 4;
  stats.emitted += 4;
  const frame = workerData.counted ? { type: 'ack', seq, counted: { n: ++n, stats: { ...stats } } } : { type: 'ack', seq };
  parentPort.postMessage([{ frame }]);
}`;

async function once(counted: boolean): Promise<number> {
  const w = new Worker(WORKER, { eval: true, workerData: { acks: ACKS, counted } });
  let got = 0;
  let last: unknown;
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  await new Promise<void>((resolve) =>
    w.on('message', (said: unknown) => {
      last = countedIn(said) ?? last;
      if (++got === ACKS) resolve();
    }),
  );
  const busy = performance.eventLoopUtilization(elu0).utilization * (performance.now() - t0);
  await w.terminate();
  if (counted && (last as { n: number }).n !== ACKS) throw new Error('an ack went missing');
  return (busy / ACKS) * 1000;
}

export async function run(): Promise<void> {
  // alternated, so that a change in the machine's load falls on both alike
  const us: Record<'bare' | 'counted', number[]> = { bare: [], counted: [] };
  for (let i = 0; i < RUNS; i++) {
    us.bare.push(await once(false));
    us.counted.push(await once(true));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[RUNS >> 1];
  const [bare, withCounts] = [median(us.bare), median(us.counted)];
  console.log(
    table(
      ['acks from a function thread', `serve thread µs per ack (median of ${RUNS})`],
      [
        ['bare { type: ack, seq }', fmt(bare, 2)],
        ['carrying its counters', fmt(withCounts, 2)],
      ],
    ),
  );
}
