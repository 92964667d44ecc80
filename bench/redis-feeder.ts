import { RespClient } from '../testing/resp-client.ts';
import { MovingFleet } from './moving-fleet.ts';

/**
 * The query benchmark's Redis side of the ingest, in a process of its own so it does not share the
 * measuring process's event loop: every second the same fleet as bench/fleet-server.ts moves, and every
 * vehicle's position goes to Redis by GEOADD, 1,000 members a command, pipelined. Prints `ready` once the
 * whole fleet is in.
 *
 *   node --import tsx bench/redis-feeder.ts <redis port> <vehicles>
 */
const [port, n] = process.argv.slice(2).map(Number);
const fleet = new MovingFleet(n);
const redis = await RespClient.connect(port);

async function feed(): Promise<void> {
  const sent: Promise<unknown>[] = [];
  for (let from = 0; from < n; from += 1000) {
    const args: (string | number)[] = ['GEOADD', 'fleet'];
    for (let i = from; i < Math.min(n, from + 1000); i++) args.push(fleet.lon[i], fleet.lat[i], fleet.ids[i]);
    sent.push(redis.call(...args));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.all(sent);
}

await redis.call('DEL', 'fleet');
await feed();
process.stdout.write('ready\n');
setInterval(() => {
  fleet.step();
  void feed();
}, 1000);
process.on('SIGTERM', () => (redis.close(), process.exit(0)));
