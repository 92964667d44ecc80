// A TypeScript user's code, checked against the declarations the package ships.
import { connectSource, type FunctionContext, type GpsBatch, type GpsRecord, type SourceOptions, type StreamFunctionStats } from 'geoflux';
import { batchBy, kernel } from 'geoflux/operators';
import { createGeofence, type GeofenceEvent } from 'geoflux/kernels';
import { loadWorkflow, serveWorkflow, type ServedWorkflow, type Workflow } from 'geoflux/workflow';
import { replay$, simulateTraffic, type SimStep } from 'geoflux/simulators';
import { filter, map, type Observable } from 'rxjs';

export const speeding = (in$: Observable<GpsRecord>, ctx: FunctionContext<{ limit?: number }>) =>
  in$.pipe(
    filter((r) => (r.speed ?? 0) > (ctx.params.limit ?? 30)),
    map((r) => ({ kind: 'speeding', deviceId: r.deviceId })),
  );

export const fences = (in$: Observable<GpsRecord>): Observable<GeofenceEvent> => in$.pipe(batchBy({ max: 256 }), kernel<GeofenceEvent>('geofence', { fences: 'quarters.geojson' }));

export async function run(opts: SourceOptions): Promise<number> {
  const source = await connectSource(opts);
  const wf: Workflow = await loadWorkflow('workflow.yaml');
  const served: ServedWorkflow = await serveWorkflow(wf);
  const fence = await createGeofence({ fences: 'quarters.geojson' });
  let n = 0;
  for await (const step of simulateTraffic({ network: 'monaco.osm.pbf', vehicles: 5, duration: 10 }) as AsyncIterable<SimStep>) {
    const events: GeofenceEvent[] = fence.process(step.fixes);
    n += events.length;
    source.write('gps', step.fixes);
  }
  replay$(['trace.csv']).subscribe((fixes: GpsRecord[]) => source.write('gps', fixes));
  const batch: GpsBatch | undefined = undefined;
  const stats: StreamFunctionStats | undefined = undefined;
  void batch;
  void stats;
  await served.stop();
  return n;
}
