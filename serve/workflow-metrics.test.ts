import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { setLogLevel } from '../log/logger.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { connectSource } from '../source/connect-source.ts';
import { packageVersion } from '../metrics/build-info.ts';
import { SPINNER } from '../testing/spinner.ts';
import { FENCE_WORKFLOW, serveWithSquares } from '../testing/squares-serve.ts';
import { waitFor } from '../testing/wait-for.ts';
import { workflowMetrics } from './workflow-metrics.ts';
import { workflowStatus } from './workflow-status.ts';

setLogLevel('silent');

/**
 * One host thread (`hosts: 1`) for a kernel that loops for ever on a fix over 100 m/s
 * (kernels/assembly/testing/spin.ts) and a function deployed beside it: a hang of the host leaves a frame
 * of the deployed function's in flight, held unacknowledged by its instance, when it is undeployed.
 */
const workflow = `name: removed
listen: [quic://127.0.0.1:0]
auth: { token: source-token }
control: { token: control-token }
hosts: 1
tags: { gps: 16, slow: 17, spun: 18, fast: 19 }
functions:
${SPINNER}`;

describe('/metrics of a served workflow', () => {
  it('counts a frame in flight for a function undeployed as dropped, reason function_removed', { timeout: 120_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(workflow);
    try {
      const wasm = new Uint8Array(readFileSync(resolve('kernels/build/testing/speed-limit.wasm')));
      const control = { ...trust, token: 'control-token' };
      const hash = createHash('sha256').update(wasm).digest('hex');
      expect(await controlRequest(control, { op: 'deploy', name: 'speeding', observe: ['gps'], emit: ['fast'], params: { limit: 5 }, min: 1, max: 1, wasm, hash })).toMatchObject({ ok: true });
      const source = await connectSource({ name: 'fleet', ...trust, token: 'source-token' });
      const unacked = (fn: string) => () => served.zipper.functionLoad().find((f) => f.name === fn)?.unacked;
      source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
      await waitFor(unacked('spinner'), 'the spinner to be handed the fix it loops on');
      source.write('gps', [{ deviceId: 'v1', t: 0, lon: 1, lat: 1, speed: 10 }]);
      await waitFor(unacked('speeding'), 'the deployed function\'s instance to hold its frame in the hung host');
      expect(await controlRequest(control, { op: 'undeploy', name: 'speeding' })).toMatchObject({ ok: true });
      const removed = async () => total(parseExposition(await workflowMetrics(served).metrics()), 'geoflux_frames_dropped_total', { reason: 'function_removed' });
      await waitFor(removed, { what: 'the frame in flight dropped as its function was removed', ms: 60_000 });
      expect(await removed()).toBe(1);
      expect(served.zipper.counters).toMatchObject({ removed: 1, dropped: 1 });
      await source.close();
    } finally {
      await close();
    }
  });
});

describe('/metrics of a served workflow, per function', () => {
  it('has kernel series only for functions that run a kernel, poison records by function from 0, and the build', { timeout: 60_000 }, async () => {
    // the fence runs a kernel; the fleet is a builtin of geoflux's own that runs none, as a sink does
    const { served, close } = await serveWithSquares(`${FENCE_WORKFLOW}  - { name: fleet, observe: [gps], host: local, run: builtin:fleet }\ndashboard: { port: 0 }\n`);
    try {
      const samples = async () => parseExposition(await workflowMetrics(served).metrics());
      const functions = (all: Awaited<ReturnType<typeof samples>>, name: string) => all.filter((s) => s.name === name).map((s) => s.labels.function).sort();
      // a function's series come with its instances' first counts
      const all = await waitFor(samples, { until: (a) => functions(a, 'geoflux_function_records_total').includes('fleet') && functions(a, 'geoflux_kernel_traps_total').length > 0, what: 'both functions counted' });
      for (const name of ['geoflux_kernel_traps_total', 'geoflux_kernel_trapped_rows_total', 'geoflux_kernel_failed_rows_total']) expect(functions(all, name), name).toEqual(['fence']);
      expect(functions(all, 'geoflux_poison_records_total')).toEqual(['events', 'fence', 'fleet']);
      expect(all.filter((s) => s.name === 'geoflux_build_info')).toEqual([{ name: 'geoflux_build_info', labels: { version: packageVersion(), node: process.version }, value: 1 }]);
    } finally {
      await close();
    }
  });
});

describe('/metrics of a deployed function replaced by a new version', () => {
  it('labels it by its name, not its version\'s, and carries what earlier versions counted into its counters', { timeout: 120_000 }, async () => {
    const { served, wf, trust, close } = await serveWithSquares(workflow);
    try {
      const wasm = new Uint8Array(readFileSync(resolve('kernels/build/testing/speed-limit.wasm')));
      const control = { ...trust, token: 'control-token' };
      const deploy = (limit: number) => controlRequest(control, { op: 'deploy', name: 'heavy', observe: ['gps'], emit: ['fast'], params: { limit }, min: 1, max: 1, wasm, hash: createHash('sha256').update(wasm).digest('hex'), freshState: true });
      const scrape = async () => parseExposition(await workflowMetrics(served).metrics());
      const handled = async () => total(await scrape(), 'geoflux_function_records_total', { function: 'heavy' });
      const source = await connectSource({ name: 'fleet', ...trust, token: 'source-token' });
      const fixes = (from: number) => Array.from({ length: 10 }, (_, i) => ({ deviceId: `v${i}`, t: from + i, lon: 1, lat: 1, speed: 10 }));
      expect(await deploy(5)).toMatchObject({ ok: true });
      source.write('gps', fixes(0));
      await waitFor(handled, { what: 'v1 to count the 10 fixes it handled', until: (n) => n === 10, ms: 30_000 });
      // the version that replaces it runs under the zipper's name heavy@2; heavy@3 after another
      for (const [i, limit] of [6, 7].entries()) {
        expect(await deploy(limit)).toMatchObject({ ok: true });
        expect(await handled()).toBeGreaterThanOrEqual(10 * (i + 1));
        source.write('gps', fixes(100 * (i + 1)));
        await waitFor(handled, { what: `v${i + 2} to count on from what v${i + 1} had`, until: (n) => n === 10 * (i + 2), ms: 30_000 });
      }
      const s = await scrape();
      expect([...new Set(s.filter((x) => x.labels.function !== undefined).map((x) => x.labels.function))].sort()).toEqual(['heavy', 'spinner']);
      expect(total(s, 'geoflux_function_instances', { function: 'heavy' })).toBe(1);
      expect(workflowStatus(wf, served)().functions.map((f) => f.name).sort()).toEqual(['heavy', 'spinner']);
      await source.close();
    } finally {
      await close();
    }
  });
});
