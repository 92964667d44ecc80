import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveWorkflow, type ServedWorkflow } from '../serve/serve-workflow.ts';
import { parseWorkflow } from '../workflows/load.ts';
import type { Workflow } from '../workflows/schema.ts';
import { SQUARES } from './fence-squares.ts';

/**
 * One kernel function in the host threads (`fn`, gps → `emit`) and its events for a function over QUIC
 * (`events`): `instances` of it dealt by `dispatch` (YAML, default round robin), with `params` (YAML, inside
 * the braces).
 */
export const kernelWorkflow = (o: { workflow: string; fn: string; kernel: string; emit: string; instances?: number; dispatch?: string; params: string }): string => `name: ${o.workflow}
listen: [quic://127.0.0.1:0]
tags: { gps: 16, ${o.emit}: 17 }
functions:
  - name: ${o.fn}
    observe: [gps]
    emit: ${o.emit}${o.dispatch ? `\n    dispatch: ${o.dispatch}` : ''}
    host: local
    instances: ${o.instances ?? 1}
    kernel: ${o.kernel}
    params: { ${o.params} }
  - name: events
    observe: [${o.emit}]
    host: remote
`;

/**
 * A geofence on squares.geojson in the host threads (`fence`, gps → fences), its events for a function over
 * QUIC (`events`); `instances` of it partitioned by device, `params` more of its params (`, detect: [enter]`).
 */
export const fenceWorkflow = ({ instances = 1, params = '' } = {}): string =>
  kernelWorkflow({ workflow: 'wake', fn: 'fence', kernel: 'geofence', emit: 'fences', instances, dispatch: '{ partition: deviceId }', params: `fences: squares.geojson, debounce: false${params}` });

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
