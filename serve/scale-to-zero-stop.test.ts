import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { connectSource } from '../index.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { crossingFix } from '../testing/fence-squares.ts';
import { serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { workflowMetrics } from './workflow-metrics.ts';

setLogLevel('silent');

/**
 * A geofence deployed with `--min 0`, parked, and serve stopping: a fix held for it then starts nothing (no
 * instance, no host thread), since nothing is started while serve stops. It is counted, and left
 * unacknowledged: its writer, a source over QUIC, keeps it for a resend.
 */
it('a function scaled to zero is not woken by a frame held for it once serve stops: the frame is counted and stays with its writer', { timeout: 60_000 }, async () => {
  const { served, trust, close } = await serveWithSquares(`name: zero-stop
listen: [quic://127.0.0.1:0]
control: { token: control-token }
tags: { gps: 16, fences: 17 }
functions: []
`);
  try {
    const wasm = new Uint8Array(readFileSync(resolve('kernels/build/geofence.wasm')));
    const hash = createHash('sha256').update(wasm).digest('hex');
    const deployed = await controlRequest({ ...trust, token: 'control-token' }, { op: 'deploy', name: 'fence', observe: ['gps'], emit: ['fences'], params: { fences: 'squares.geojson' }, min: 0, max: 1, idle: 0.2, wasm, hash });
    expect(deployed).toMatchObject({ ok: true });
    const scaler = served.deployments!.scaling().find((s) => s.name === 'fence')!.scaler;
    await waitFor(() => scaler.state === 'parked', 'the fence scaled to zero');
    const threads = served.hosts.stats().threads;

    // what serve's stop does first: no park, wake or scale from now on
    served.deployments!.close();
    const source = await connectSource({ name: 'fleet', ...trust });
    source.write('gps', [crossingFix(0, 1)]);
    await waitFor(() => scaler.unwoken, 'the fix held for the parked fence');
    expect([scaler.state, scaler.coldStarts]).toEqual(['parked', 0]);
    expect(served.functionThreads.filter((t) => t.fn === 'fence')).toEqual([]);
    expect(served.hosts.stats().threads).toBe(threads);
    expect(served.zipper.functionLoad().find((f) => f.name === 'fence')).toMatchObject({ instances: 0, waiting: 1 });
    expect(total(parseExposition(await workflowMetrics(served).metrics()), 'geoflux_function_unwoken_frames_total', { function: 'fence' })).toBe(1);

    await served.stop();
    // the source's, not serve's own: kept for a resend, not lost at close
    expect(served.zipper.counters.lostAtClose).toBe(0);
    expect(served.zipper.inflight).toBe(1);
    await source.close(0);
  } finally {
    await close();
  }
});
