import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectSource } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');

/**
 * Ctrl-C while a function is stuck on a record for ever: a user's module in a thread of its own (the trial's
 * `tagger`), or a kernel of the user's own in a host thread. Its watchdog ends it during the drain; it was
 * started again then, took the record again and hung again, each close after waiting for it (17 s against
 * `--drain-timeout` 5000 in the trial). Once serve stops, no thread starts again: what the hung one held is
 * left unacknowledged, lost at close or kept by its writer. The drain here is long, so the watchdog (1 s)
 * acts within it.
 */
const WORKFLOW = `name: stop-hung
listen: [quic://127.0.0.1:0]
tags: { poisoned: 16, slow: 17, out: 18 }
functions:
  - name: poisoned
    observe: [poisoned]
    emit: out
    host: local
    run: ./always-fails.ts
    timeout: 1000
    params: { mode: loop }
  - name: spinner
    observe: [slow]
    host: local
    kernel: ../../kernels/build/testing/spin.wasm
    timeout: 1000
`;

describe.each([
  ['a user\'s module in a thread of its own', 'poisoned', 'poisoned', { deviceId: 'boom', t: 0, lon: 1, lat: 1 }],
  ['a kernel of the user\'s own in a host thread', 'spinner', 'slow', { deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }],
])('serve stopping while %s hangs', (_what, fn, tag, fix) => {
  it('ends it without starting it again; the fix it hung on is left unacknowledged, kept by its writer', { timeout: 60_000 }, async () => {
    const served = await serveWorkflow(parseWorkflow(WORKFLOW, resolve('reliability/testdata/stop-hung.yaml'), {}), { drainTimeout: 30_000 });
    const source = await connectSource({ name: 'fleet', zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
    try {
      const thread = served.functionThreads.find((f) => f.fn === fn)!.thread;
      source.write(tag, [fix]);
      await waitFor(() => served.zipper.functionLoad().find((f) => f.name === fn)?.unacked === 1, `${fn} holding the fix it hangs on`);
      await served.stop();
      expect(thread.restarts).toEqual({ crash: 0, hung: 0, exit: 0 });
      expect(served.zipper.counters.poison).toBe(0);
      expect(served.zipper.inflight).toBe(1);
    } finally {
      await source.close(0);
    }
  });
});
