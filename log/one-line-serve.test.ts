import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { connectSource } from '../source/connect-source.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

const FORGED = '2026-12-07T00:00:00.000Z ERROR [zipper] forged';

/**
 * A source writes what it likes in a record's fields, and a control client in a request's name: a device id
 * with a newline in it, in a record serve says it skips, and a name with one, in an undeploy serve logs and
 * refuses, are each one line of serve's log, the newline shown as `\n`, not a line that reads as serve's own.
 */
it("a record's device id, or a control request's name, with a newline in it is logged on one line", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-one-line-'));
  writeFileSync(
    join(dir, 'wf.yaml'),
    [
      'name: one-line',
      'listen: [quic://127.0.0.1:0]',
      'dashboard: { port: 0 }',
      'control: { token: control-token }',
      'tags: { gps: 16, events: 17 }',
      'functions:',
      '  - { name: fleet, observe: [gps, events], host: local, run: builtin:fleet }',
    ].join('\n'),
  );
  const serve = await startServe(join(dir, 'wf.yaml'));
  try {
    const source = await connectSource({ name: 'forger', zipper: serve.url, certHash: serve.certHash });
    // a fence event of a vehicle the fleet has no position of: skipped, and said
    source.write('events', { kind: 'geofence', detect: 'enter', deviceId: `x\n${FORGED}`, fence: { name: 'yard' }, t: 1_700_000_000_000 });
    await source.close();
    await waitFor(() => serve.out.stderr.includes('which has no position in the index'), 'the skipped event said');
    const undeploy = await controlRequest({ zipper: serve.url, certHash: serve.certHash, token: 'control-token' }, { op: 'undeploy', name: `y\n${FORGED}` });
    expect(undeploy).toMatchObject({ ok: false });
    await waitFor(() => serve.out.stderr.includes('refused (unknown_function)'), 'the refused undeploy said');
  } finally {
    await serve.stop();
  }
  const forged = FORGED.replace(/[[\]]/g, '\\$&');
  const said = serve.out.stderr.split('\n').filter((l) => l.includes('forged'));
  expect(said).toEqual([
    expect.stringMatching(new RegExp(`WARN  \\[.*fleet.*\\] a enter event of "x\\\\n${forged}", which has no position`)),
    expect.stringMatching(new RegExp(`INFO  \\[zipper [^\\]]*\\] control "[^"]+" \\([^)]+\\): undeploy "y\\\\n${forged}"$`)),
    expect.stringMatching(new RegExp(`WARN  \\[.*\\] undeploy "y\\\\n${forged}" refused \\(unknown_function\\): no deployed function "y\\\\n${forged}"`)),
  ]);
}, 60_000);
