import { Subject } from 'rxjs';
import { startDashboard } from '../dashboard/server.ts';
import { logger } from '../log/logger.ts';
import { FleetIndex } from '../query/fleet-index.ts';
import { fleetFunction, noSkips } from '../query/fleet-function.ts';
import { MovingFleet } from './moving-fleet.ts';

/**
 * The query benchmark's geoflux side, in a process of its own as serve would be: the fleet function's fold
 * and index, and the dashboard's HTTP server answering /v1/ from it. Every second the fleet moves and each
 * vehicle's fix goes through the fold, in frames of 4,096 records (a frame is what the zipper hands a
 * function at most), with the event loop free between frames, as between frames from the zipper. It prints
 * its URL, then per second the ms the thread spent folding.
 *
 *   node --import tsx bench/fleet-server.ts <vehicles>
 */
const n = Number(process.argv[2]);
const fleet = new MovingFleet(n);
const index = new FleetIndex({ ttl: 60 });
const skipped = noSkips();
const in$ = new Subject<Record<string, unknown>>();
fleetFunction(index, skipped, logger('fleet')).default!(in$, { name: 'fleet', params: {}, log: logger('fleet') }).subscribe();

const feed = () =>
  new Promise<number>((resolve) => {
    let busy = 0;
    const t = Date.now();
    const frame = (from: number) => {
      const start = performance.now();
      for (let i = from; i < Math.min(n, from + 4096); i++) in$.next({ deviceId: fleet.ids[i], t, lon: fleet.lon[i], lat: fleet.lat[i], speed: 10, heading: 90 });
      busy += performance.now() - start;
      if (from + 4096 < n) setImmediate(() => frame(from + 4096));
      else resolve(busy);
    };
    frame(0);
  });

await feed();
const dashboard = await startDashboard({
  host: '127.0.0.1',
  port: 0,
  name: 'bench',
  live: { problem: 'a benchmark' },
  baseMap: Promise.resolve({ roads: { type: 'FeatureCollection', features: [] }, fences: { type: 'FeatureCollection', features: [] } }),
  status: () => ({ at: Date.now(), fixesIn: 0, alerts: 0, sinks: null, functions: [] }),
  fleet: index,
});
process.stdout.write(`url ${dashboard.url}\n`);
setInterval(() => {
  fleet.step();
  void feed().then((ms) => process.stdout.write(`tick ${ms.toFixed(2)}\n`));
}, 1000);
process.on('SIGTERM', () => void dashboard.close().then(() => process.exit(0)));
