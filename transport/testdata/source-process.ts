/**
 * A source in a process of its own that writes until it is stopped or killed, for tests of what the zipper
 * does when a client vanishes: `node --import tsx source-process.ts <zipper-url> <cert-hash>`. It prints
 * "flowing" once its first records are acknowledged.
 */
import { setLogLevel } from '../../log/logger.ts';
import { connectSource } from '../../source/connect-source.ts';

setLogLevel('silent');
const [zipper, certHash] = process.argv.slice(2);
const src = await connectSource({ name: 'doomed', zipper, certHash });
src.write('gps', { deviceId: 'veh-1', t: 0, lon: 7.42, lat: 43.73 });
await src.flush();
console.log('flowing');
for (let t = 1; ; t++) {
  src.write('gps', { deviceId: 'veh-1', t, lon: 7.42, lat: 43.73 });
  await new Promise((r) => setTimeout(r, 5));
}
