import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { queryFleet } from '../../query/query-client.ts';
import { freePort } from '../../testing/free-port.ts';
import { startServe } from '../../testing/serve-process.ts';
import { waitFor } from '../../testing/wait-for.ts';

/** issue #24's promise end to end: a phone's fix, as Traccar Client sends it, is in the fleet index moments later */
it('a fix Traccar Client posts to an osmand source is answered by /v1/nearby', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-osmand-fleet-'));
  const file = join(dir, 'phones.yaml');
  writeFileSync(
    file,
    [
      'name: phones',
      'listen: [quic://127.0.0.1:0]',
      'dashboard: { port: 0 }',
      'tags: { gps: 16 }',
      'functions:',
      '  - { name: fleet, observe: [gps], host: local, run: builtin:fleet }',
      'sources:',
      `  - { name: phones, run: builtin:osmand, params: { port: ${port} } }`,
    ].join('\n'),
  );
  const serve = await startServe(file, {}, new RegExp(`listening for devices on http://127\\.0\\.0\\.1:${port}/`));
  try {
    const now = new Date().toISOString();
    // the body Traccar Client (its JSON mode) posts: device_id and a location with its coords
    const sent = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: 'anna-phone', location: { timestamp: now, coords: { latitude: 43.7396, longitude: 7.4267, accuracy: 8, speed: 4, heading: 90 } } }),
    });
    expect(sent.status).toBe(200);
    const fleet = queryFleet(serve.dashboardUrl!);
    const answer = await waitFor(async () => {
      const a = await fleet.nearby({ lon: 7.4268, lat: 43.7396, k: 5 });
      return a.count > 0 && a;
    }, { what: 'the phone in the index' });
    expect(answer.items[0]).toMatchObject({ deviceId: 'anna-phone', lon: 7.4267, lat: 43.7396, speed: 4, heading: 90 });
    expect(answer.items[0].distance).toBeCloseTo(8.05, 1);
  } finally {
    const code = await serve.stop();
    expect(code, serve.out.stderr).toBe(0);
  }
});
