// A user's program with geoflux installed from the tarball: every entry imported by its public name, then a
// source → zipper (run by serveWorkflow) → stream function → zipper → stream function round trip over QUIC,
// with the geofence kernel as the first function's batch handler.
import { tap } from 'rxjs';
import * as root from 'geoflux';
import * as operators from 'geoflux/operators';
import * as kernels from 'geoflux/kernels';
import * as workflow from 'geoflux/workflow';
import * as simulators from 'geoflux/simulators';

const { connectSource, connectStreamFunction, setLogLevel } = root;
setLogLevel('warn');

for (const [name, m] of Object.entries({ geoflux: root, 'geoflux/operators': operators, 'geoflux/kernels': kernels, 'geoflux/workflow': workflow, 'geoflux/simulators': simulators })) {
  console.log(`${name}: ${Object.keys(m).sort().join(' ')}`);
}

const yard = { type: 'Feature', id: 'yard', properties: { name: 'Yard' }, geometry: { type: 'Polygon', coordinates: [[[7.41, 43.73], [7.42, 43.73], [7.42, 43.74], [7.41, 43.74], [7.41, 43.73]]] } };
const wf = workflow.parseWorkflow(
  `name: consumer
listen: [quic://127.0.0.1:0]
auth: { token: t0k }
tags: { gps: 16, alerts: 17 }
functions:
  - { name: yard, observe: [gps], emit: alerts, dispatch: { partition: deviceId } }
  - { name: collector, observe: [alerts] }
`,
  `${process.cwd()}/inline.yaml`,
);
const served = await workflow.serveWorkflow(wf);
const trust = { zipper: served.zipper.listeners[0].url, token: 't0k', certHash: served.zipper.tls.certHash };

const fn = await connectStreamFunction({ name: 'yard', observe: ['gps'], ...trust });
fn.handleBatches(await kernels.createGeofence({ fences: yard, detect: ['enter', 'exit'], debounce: false }), { emit: 'alerts' });
const received = [];
const collector = await connectStreamFunction({ name: 'collector', observe: ['alerts'], ...trust });
collector.handle((in$) => in$.pipe(tap((e) => received.push(`${e.detect} ${e.fence.id}`))));

const source = await connectSource({ name: 'truck-gw', ...trust });
const drive = [7.405, 7.415, 7.425].map((lon, i) => ({ deviceId: 'truck-7', t: Date.UTC(2026, 0, 1) + i * 1000, lon, lat: 43.735 }));
source.write('gps', drive);
await source.flush(10_000);
const deadline = Date.now() + 15_000;
while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

// the same kernel as a plain library call, on the same fixes
const direct = await kernels.createGeofence({ fences: yard, detect: ['enter', 'exit'], debounce: false });
const library = direct.process(drive).map((e) => `${e.detect} ${e.fence.id}`);
console.log(`round trip over ${trust.zipper.split(':')[0]}: ${received.join(', ')}`);
console.log(`library call: ${library.join(', ')}`);

await source.close();
await fn.close();
await collector.close();
await served.stop();
