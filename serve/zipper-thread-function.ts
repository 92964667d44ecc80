import { ignoreElements, tap, type Observable } from 'rxjs';
import { logger } from '../log/logger.ts';
import { fleetFunction, noSkips } from '../query/fleet-function.ts';
import { FleetIndex } from '../query/fleet-index.ts';
import { FLEET_BUILTIN, fleetParams } from '../query/fleet-params.ts';
import { loadFunctionModule } from '../sfn/builtins/index.ts';
import { startFunctionModule, type FunctionModule } from '../sfn/function-module.ts';
import type { KernelRunStats } from '../sfn/kernel-batches.ts';
import { kernelFunction } from '../sfn/kernel-function.ts';
import type { OncePerId } from '../sinks/once-per-id.ts';
import type { Sink } from '../sinks/sink.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { openSink } from './open-sink.ts';
import type { ServedWorkflow } from './serve-workflow.ts';

/**
 * One instance of a function that runs in the zipper's own thread: a sink and the fleet's index (geoflux's
 * own code), or a kernel with `timeout: 0` (the fastest path, unguarded). A module of its own, loaded by the
 * first such function: a workflow without one (a geofence gateway) holds neither RxJS nor the fleet index in
 * serve's thread (docs/serverless.md, the footprint).
 */
export async function startInZipperThread(
  wf: Workflow,
  f: WorkflowFunction,
  served: ServedWorkflow,
  spec: { name: string; observe: string[]; emit: string[]; params?: Record<string, unknown> },
  conn: { zipper: string; token?: string },
  failed: (e: Error) => Error,
): Promise<void> {
  let mod: FunctionModule;
  let kernel: KernelRunStats | undefined;
  if (f.sink) {
    const sink = await openSink(wf, f, served.mqttUrl, served.broker);
    served.sinks.push({ fn: f.name, sink });
    mod = publishTo(sink, served.repeats.of(f.name));
  } else if (f.run === FLEET_BUILTIN) {
    served.fleet = { index: new FleetIndex(fleetParams(f.params ?? {}).options), skipped: noSkips() };
    mod = fleetFunction(served.fleet.index, served.fleet.skipped, logger(`fleet ${f.name}`));
  } else if (f.run) {
    mod = await loadFunctionModule(f.run, wf.dir).catch((e: Error) => Promise.reject(failed(e)));
  } else {
    const k = kernelFunction({ kernel: f.kernel!, params: f.params, batch: f.batch, wasi: f.wasi, timeout: 0, baseDir: wf.dir });
    kernel = k.stats;
    mod = k;
  }
  const sfn = await startFunctionModule(mod, spec, conn).catch((e: Error) => Promise.reject(failed(e)));
  served.functions.push({ fn: f.name, sfn, kernel });
}

/** A sink as a function module: every event it observes is published once, nothing is emitted. */
const publishTo = (sink: Sink, once: OncePerId): FunctionModule => ({ default: (in$: Observable<object>) => in$.pipe(tap((e) => once.first(e) && sink.publish(e)), ignoreElements()) });
