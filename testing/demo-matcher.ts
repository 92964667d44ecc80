import { batchFromRecords } from '../codecs/gps-batch.ts';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { kernelFiles } from '../kernels/create-kernel.ts';
import { Kernel } from '../kernels/kernel.ts';
import { trafficConfig } from '../simulators/traffic.ts';
import { createTraffic } from '../simulators/traffic/create-traffic.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { HashRing } from '../zipper/hash-ring.ts';

export interface DemoMatcher {
  /** the workflow's mapmatch params, paths relative to `dir` */
  params: Record<string, unknown>;
  dir: string;
  /** the fixes of each simulated second, this instance's share */
  seconds: GpsRecord[][];
  vehicles: number;
}

/**
 * What one of `npm start`'s map matchers is given, read from the workflow file (workflow.yaml): its mapmatch
 * params, and its share of the `builtin:traffic` source's fixes (a ring of the function's instances, as
 * `dispatch: { partition: deviceId }` splits them: ~250 of the 500 vehicles), a simulated second a batch,
 * from a fixed start so every run is the same.
 */
export async function demoMatcher(file: string, seconds: number): Promise<DemoMatcher> {
  const wf = await loadWorkflow(file);
  const fn = wf.functions.find((f) => f.kernel === 'mapmatch');
  const source = wf.sources.find((s) => s.run === 'builtin:traffic');
  if (!fn || !source) throw new Error(`${file} has no mapmatch function or no builtin:traffic source`);
  const ring = new HashRing(Array.from({ length: fn.instances }, (_, i) => ({ id: `${fn.name}#${i}`, value: i })));
  const t = await createTraffic({ ...trafficConfig(source.params ?? {}), start: Date.UTC(2026, 0, 1, 8) }, wf.dir);
  const out: GpsRecord[][] = [];
  const mine = new Set<string>();
  while (t.sim.seconds < seconds) {
    const fixes = t.sim.step().fixes.filter((f) => ring.owner(f.deviceId) === 0);
    for (const f of fixes) mine.add(f.deviceId);
    out.push(fixes);
  }
  return { params: fn.params ?? {}, dir: wf.dir, seconds: out, vehicles: mine.size };
}

/**
 * A mapmatch kernel that has matched every second of `d`, snapshot after each as serve's kernels are (every
 * second while records flow, kernels/host/kernel-runner.ts): its instance (`call`) holds what the demo's would.
 */
export async function matchedDemo(d: DemoMatcher): Promise<Kernel> {
  const { setup, params } = await kernelFiles('mapmatch', d.params, { baseDir: d.dir });
  const k = Kernel.create(params, setup);
  for (const fixes of d.seconds) {
    k.rows(k.fit(batchFromRecords(fixes)));
    k.snapshot();
  }
  return k;
}
