import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../testing/free-port.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * The trial's case: a replay at full speed whose every fix is an alert, to a NATS sink nobody listens at. Each
 * alert that never leaves is counted and said: the sink's URL at WARN, its drops as they happen, what it still
 * held at Ctrl-C, and serve's last line.
 */
describe('serve with a sink that cannot reach its server', () => {
  it('says so, says its drops, and counts what it held at Ctrl-C in its done line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-sink-drops-'));
    const rows = Array.from({ length: 3000 }, (_, i) => `veh-1,${1_700_000_000_000 + i * 1000},${7.4 + i * 1e-5},43.73,20`);
    writeFileSync(join(dir, 'fast.csv'), ['deviceId,t,lon,lat,speed', ...rows].join('\n'));
    const url = `nats://127.0.0.1:${await freePort()}`;
    writeFileSync(
      join(dir, 'wf.yaml'),
      [
        'name: sink-drops',
        'listen: [quic://127.0.0.1:0]',
        'tags: { gps: 16, speeding: 17 }',
        'functions:',
        '  - { name: speeding, observe: [gps], emit: speeding, host: local, run: builtin:speeding, params: { limit: 1 } }',
        `  - { name: out, observe: [speeding], sink: nats, params: { url: "${url}", buffer: 100 } }`,
        'sources:',
        '  - { name: r, run: builtin:replay, params: { files: [fast.csv], speed: max } }',
      ].join('\n'),
    );
    const serve = await startServe(join(dir, 'wf.yaml'));
    await waitFor(() => serve.out.stderr.includes('replay finished'), 'the replay to end');
    await waitFor(() => serve.out.stderr.includes('buffer of 100 full'), 'the first drop said');
    expect(await serve.stop()).toBe(0);
    const err = serve.out.stderr;
    expect(err).toMatch(new RegExp(`WARN  \\[sink out\\] NATS at ${url} is not reachable`));
    expect(err).toMatch(new RegExp(`WARN  \\[sink out\\] buffer of 100 full: dropped the oldest message for ${url}, not reachable for `));
    expect(err).toMatch(new RegExp(`WARN  \\[sink out\\] closing: dropped 100 buffered messages for ${url}`));
    expect(err).toMatch(/\[serve\] done: \{.*"sinkDropped":3000,/);
  }, 60_000);
});
