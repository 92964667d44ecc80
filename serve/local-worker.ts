import '../runtime/quiet-wasi-warning.ts';
import { parentPort, workerData } from 'node:worker_threads';
import { setLogLevel, tapLogLines, type Level } from '../log/logger.ts';
import type { Counted } from '../runtime/latest-counts.ts';
import type { StateCommand, ThreadCommand, ThreadMessage } from '../runtime/module-thread.ts';
import { refuseState, startFailed, startInstance, type FunctionData } from './run-instance.ts';
import { startSource, type SourceData } from './run-source.ts';

/**
 * A workflow's local function or source in its own thread (runtime/module-thread.ts starts and watches it):
 * a user's JavaScript (a function's or a source's), a device listener, or a source that dials a zipper
 * address of its own (geoflux's own functions, simulations and replays share host threads:
 * serve/host-worker.ts). Both reach the zipper over port://, unless a source's entry names an address of its own.
 */

export type LocalWorkerData = { logLevel: Level } & (({ kind: 'function' } & FunctionData) | SourceData);

const port = parentPort!;
const data = workerData as LocalWorkerData;
setLogLevel(data.logLevel);
const post = (m: ThreadMessage) => port.postMessage(m);

let stats: () => unknown = () => undefined;
// its pongs and its acks (which come on another port) numbered alike, so that serve keeps the newer
let reports = 0;
const numbered = (s: unknown): Counted => ({ n: ++reports, stats: s });
let stop: () => Promise<unknown> = async () => undefined;
let answer: (m: StateCommand) => Promise<ThreadMessage> = refuseState;

port.on('message', (m: ThreadCommand) => {
  if (m.geoflux === 'ping') post({ geoflux: 'pong', ...numbered(stats()) });
  else if (m.geoflux === 'stop') void stop().finally(() => process.exit(0));
  else void answer(m).then(post);
});

try {
  if (data.kind === 'function') {
    // its lines also go to serve, which keeps the recent ones for `geoflux logs`
    tapLogLines(({ line }) => post({ geoflux: 'log', line }));
    // its acks carry its counters: what it acked is counted even if it crashes before the next ping
    ({ stats, stop, answer } = await startInstance(data, { withAcks: numbered }));
  } else ({ stats, stop, answer } = await startSource(data));
  post({ geoflux: 'ready' });
} catch (e) {
  post(startFailed(e));
}
