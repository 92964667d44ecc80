// One cold start of the geofence kernel outside the benchmark's process (bench/coldstart.ts): in a fresh
// worker thread, a fresh `node` process, or a container. From nothing: load geoflux's compiled kernel host,
// compile the module, read the fences, restore the state of 1,000 devices, process the first frame, and say
// how many events it gave. Plain JavaScript against dist/, so that a container needs only node and the files.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const [dist, data] = parentPort ? workerData : process.argv.slice(2);
const { createGeofence } = await import(`${dist}/kernels/create-kernel.js`);
const { batchFromRecords } = await import(`${dist}/codecs/gps-batch.js`);
const k = await createGeofence({ fences: `${data}/fences.geojson`, detect: ['enter', 'exit'] });
k.restore({ state: new Uint8Array(readFileSync(`${data}/state.bin`)), devices: JSON.parse(readFileSync(`${data}/devices.json`, 'utf8')) });
const events = k.process(batchFromRecords(JSON.parse(readFileSync(`${data}/frame.json`, 'utf8'))));
const line = `events ${events.length}`;
if (parentPort) parentPort.postMessage(line);
else process.stdout.write(line + '\n');
