import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { setLogLevel } from '../../log/logger.ts';
import { freePort } from '../../testing/free-port.ts';
import { ingestTests } from '../../testing/ingest-tests.ts';
import { waitFor } from '../../testing/wait-for.ts';

setLogLevel('silent');

const t = ingestTests();

describe('builtin:traffic with as: osmand', () => {
  it("sends the simulated fleet through the osmand listener over HTTP, as phones running Traccar Client would", async () => {
    const port = await freePort();
    const network = resolve('../shared/data/osm/monaco.osm.pbf');
    const sim = { network, vehicles: 5, duration: 20, speed: 'max', seed: 7, as: 'osmand', url: `http://127.0.0.1:${port}` };
    const running = await t.serve('osmand', { port }, `  - { name: sim, run: builtin:traffic, params: ${JSON.stringify(sim)} }`);
    // 5 vehicles, a fix a second each for 20 simulated seconds (less what the GPS model drops)
    const fixes = await running.waitFixes(50);
    expect(new Set(fixes.map((f) => f.deviceId)).size).toBe(5);
    expect(fixes.every((f) => f.deviceId.startsWith('veh') && f.speed !== undefined)).toBe(true);
    // the simulation may still be sending: the three counts agree once what was taken has all arrived
    const counts = async () => [await running.metric('geoflux_ingest_fixes_total', { source: 'devices' }), await running.metric('geoflux_records_in_total', { tag: 'gps' }), running.fixes.length];
    const [delivered] = await waitFor(counts, { until: ([taken, zipped, arrived]) => taken >= 50 && taken === zipped && taken === arrived, what: 'what the listener took to be what the zipper took and what arrived' });
    expect(delivered).toBeGreaterThanOrEqual(50);
    expect(await running.metric('geoflux_source_unsent_records_total', { source: 'sim' })).toBe(0);
  });
});
