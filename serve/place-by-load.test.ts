import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition } from '../metrics/parse-exposition.ts';
import { serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { workflowMetrics } from './workflow-metrics.ts';

setLogLevel('silent');

/** Two host threads allowed, one geofence in the first, and nothing written: the host idles. */
const workflow = `name: placed
listen: [quic://127.0.0.1:0]
control: { token: control-token }
hosts: 2
tags: { gps: 16, fences: 17, fast: 18 }
functions:
  - name: fence
    observe: [gps]
    emit: fences
    host: local
    kernel: geofence
    params: { fences: squares.geojson }
`;

describe('an instance started after the workflow’s own', () => {
  it('goes to a running host with room (its loop busy under half), not to a new host thread', { timeout: 60_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      // a host's load is known once its watchdog has sampled 2 s of its loop
      await waitFor(() => served.hosts.stats().busy.length === 1, { what: 'the host’s busy share known', ms: 30_000 });
      const series = parseExposition(await workflowMetrics(served).metrics()).filter((s) => s.name === 'geoflux_host_busy_ratio');
      expect(series).toHaveLength(1);
      expect(series[0].value).toBeLessThan(0.5);
      const wasm = new Uint8Array(readFileSync(resolve('kernels/build/testing/speed-limit.wasm')));
      const hash = createHash('sha256').update(wasm).digest('hex');
      expect(await controlRequest({ ...trust, token: 'control-token' }, { op: 'deploy', name: 'speeding', observe: ['gps'], emit: ['fast'], params: { limit: 5 }, min: 1, max: 1, wasm, hash })).toMatchObject({ ok: true });
      expect(served.hosts.stats().threads).toBe(1);
    } finally {
      await close();
    }
  });
});
