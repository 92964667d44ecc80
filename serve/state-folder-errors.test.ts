import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { failingServe, startServe } from '../testing/serve-process.ts';

/**
 * A state folder serve cannot write, as an operator meets it (a read-only mount, a full disk): one line naming
 * the state folder, the path that failed and its errno. A file where a folder should be stands in for both
 * (ENOTDIR fails as root too, where a chmod 0555 folder does not).
 */
const SPEED_LIMIT = resolve('kernels/build/testing/speed-limit.wasm');

it('serve on a state folder it cannot create exits 1 with one line naming it and why', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-state-errors-'));
  writeFileSync(join(dir, 'mount'), '');
  writeFileSync(join(dir, 'wf.yaml'), ['name: no-state', 'listen: [quic://127.0.0.1:0]', 'state: ./mount/state', 'tags: { gps: 16 }', 'functions: []'].join('\n'));
  const { code, stderr } = await failingServe(join(dir, 'wf.yaml'));
  expect(code).toBe(1);
  expect(stderr).toBe(`geoflux serve: cannot create the state folder ${join(dir, 'mount', 'state')}: ${join(dir, 'mount')} is a file, not a folder (ENOTDIR)\n`);
});

it('a deploy whose module cannot be stored is refused with one line (reason "error"), no stack trace', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-state-errors-'));
  writeFileSync(join(dir, 'wf.yaml'), controlWorkflow('store-fails', { metrics: true }) + 'state: ./state\n');
  const serve = await startServe(join(dir, 'wf.yaml'));
  try {
    // where the modules go, a file: the store's write fails there, as it did on the trial's full disk
    writeFileSync(join(dir, 'state', 'kernels'), '');
    const r = await runGeoflux(['deploy', SPEED_LIMIT, '--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token', '--name', 'fast', '--observe', 'gps']);
    const why = `cannot create the state folder's modules folder ${join(dir, 'state', 'kernels')}: ${join(dir, 'state', 'kernels')} is a file, not a folder (ENOTDIR)`;
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(why);
    expect(total(parseExposition(await (await fetch(serve.metricsUrl!)).text()), 'geoflux_deploy_refused_total', { reason: 'error' })).toBe(1);
    const said = serve.out.stderr.split('\n').filter((l) => l.includes('deploy failed'));
    expect(said).toEqual([expect.stringMatching(new RegExp(`ERROR \\[serve\\] deploy failed: ${why.replace(/[.()'\\]/g, '\\$&')}$`))]);
    expect(serve.out.stderr).not.toMatch(/^\s+at /m);
  } finally {
    await serve.stop();
  }
});
