import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveWorkflow, type ServedWorkflow } from '../serve/serve-workflow.ts';
import { parseWorkflow } from '../workflows/load.ts';
import type { Workflow } from '../workflows/schema.ts';
import { SQUARES } from './fence-squares.ts';

/**
 * A geofence on squares.geojson in a host thread (`fence`, gps → fences), its events for a function over QUIC
 * (`events`); `instances` of it partitioned by device, `params` more of its params (`, detect: [enter]`).
 */
export const fenceWorkflow = ({ instances = 1, params = '' } = {}): string => `name: wake
listen: [quic://127.0.0.1:0]
tags: { gps: 16, fences: 17 }
functions:
  - name: fence
    observe: [gps]
    emit: fences
    dispatch: { partition: deviceId }
    host: local
    instances: ${instances}
    kernel: geofence
    params: { fences: squares.geojson, debounce: false${params} }
  - name: events
    observe: [fences]
    host: remote
`;

/** one geofence: what a wake is timed and tested on */
export const FENCE_WORKFLOW = fenceWorkflow();

/**
 * A workflow served in this process from its text, beside `squares.geojson` (testing/fence-squares.ts) in a
 * directory of its own, which `close` removes with serve stopped; `trust` is how a client reaches its zipper.
 */
export async function serveWithSquares(text: string): Promise<{ served: ServedWorkflow; wf: Workflow; trust: { zipper: string; certHash: string }; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-squares-'));
  writeFileSync(join(dir, 'squares.geojson'), JSON.stringify(SQUARES));
  try {
    const wf = parseWorkflow(text, join(dir, 'workflow.yaml'), {});
    const served = await serveWorkflow(wf);
    return {
      served,
      wf,
      trust: { zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash },
      close: async () => {
        await served.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
