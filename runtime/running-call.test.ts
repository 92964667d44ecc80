import { describe, expect, it } from 'vitest';
import { toBatch } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { createKernel } from '../kernels/create-kernel.ts';
import { KernelTrap } from '../kernels/host/kernel-error.ts';
import { setLogLevel } from '../log/logger.ts';
import { KernelBatches } from '../sfn/kernel-batches.ts';
import { callUnderWay, runningCall, runningCallCell } from './running-call.ts';

setLogLevel('silent');

/**
 * The marker a host thread's watchdog reads (runtime/module-thread.ts) after a kernel call that traps: left
 * set, the watchdog would take the thread for one stuck in that call and stop it, with its other instances.
 * kernels/build/testing/trap-on.wasm traps on a fix at exactly 13 m/s.
 */
const fix = (i: number, speed: number): GpsRecord => ({ deviceId: `veh-${i}`, t: 1_700_000_000_000 + i, lon: 0.5, lat: 0.5, speed });
const TRAP_ON = 'kernels/build/testing/trap-on.wasm';

describe('the running-call marker', () => {
  it('is set while a kernel call that traps is under way, and cleared once it has trapped', async () => {
    const underWay = callUnderWay(runningCallCell());
    const kernel = await createKernel(TRAP_ON);
    let during = 0;
    expect(() =>
      runningCall(() => {
        during = underWay();
        return kernel.process(toBatch([fix(0, 13)]));
      }),
    ).toThrow(KernelTrap);
    expect(during).toBeGreaterThan(0);
    expect(underWay()).toBe(0);
  });

  it('is cleared after a batch whose calls trap down to the row that traps, as the host thread runs it', async () => {
    const underWay = callUnderWay(runningCallCell());
    const k = new KernelBatches(createKernel(TRAP_ON));
    // the row that traps last: the batch's last call is one that traps
    const rows = await k.run([fix(0, 10), fix(1, 10), fix(2, 13)]);
    expect(k.stats.trappedRows).toBe(1);
    expect(rows).toHaveLength(2);
    expect(underWay()).toBe(0);
  });
});
