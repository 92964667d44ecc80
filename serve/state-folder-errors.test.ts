import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * A deploy, a replace and an undeploy whose `deployments.json` cannot be written (a directory stands where the
 * file goes: as root a chmod does not stop a write, a rename over a directory fails for anyone) are refused
 * with the reason, and change nothing that runs: what runs is what the file says, so what the next start
 * brings back. Before, the function started first and ran on, refused, unknown to the next start.
 */
it('a deploy, replace or undeploy whose deployments.json cannot be written is refused with why, and what runs is unchanged', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-state-errors-'));
  writeFileSync(join(dir, 'wf.yaml'), controlWorkflow('list-fails', { metrics: true }) + 'state: ./state\n');
  const serve = await startServe(join(dir, 'wf.yaml'));
  const list = join(dir, 'state', 'deployments.json');
  const trust = ['--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token'];
  const deploy = (...more: string[]) => runGeoflux(['deploy', SPEED_LIMIT, ...trust, '--name', 'fast', '--observe', 'gps', ...more]);
  const deployed = async () => (await runGeoflux(['functions', ...trust])).stdout.split('\n').filter((l) => l.startsWith('fast'));
  const why = `cannot write ${list}: illegal operation on a directory (EISDIR)`;
  try {
    mkdirSync(list);
    const refused = await deploy();
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining(`refused: ${why}`) });
    expect(await deployed()).toEqual([]);
    // its module not kept either: nothing names it
    expect(readdirSync(join(dir, 'state', 'kernels'))).toEqual([]);

    rmSync(list, { recursive: true });
    expect((await deploy()).code).toBe(0);
    const running = await deployed();
    expect(running).toEqual([expect.stringMatching(/^fast\s+deployed\s+\S+\s+gps\s+-?\s*1 \(1-1\)$/)]);
    rmSync(list);
    mkdirSync(list);
    // a new version (another --max) is refused: the old one runs on, as it was
    expect(await deploy('--max', '2')).toMatchObject({ code: 1, stderr: expect.stringContaining(`refused: ${why}`) });
    expect(await deployed()).toEqual(running);
    expect(await runGeoflux(['undeploy', 'fast', ...trust])).toMatchObject({ code: 1, stderr: expect.stringContaining(`refused: ${why}`) });
    expect(await deployed()).toEqual(running);
    expect(total(parseExposition(await (await fetch(serve.metricsUrl!)).text()), 'geoflux_deploy_refused_total', { reason: 'error' })).toBe(3);
    expect(serve.out.stderr.split('\n').filter((l) => l.includes(' failed: '))).toEqual(['deploy', 'deploy', 'undeploy'].map((op) => expect.stringMatching(new RegExp(`ERROR \\[serve\\] ${op} failed: ${why.replace(/[.()'\\]/g, '\\$&')}$`))));
  } finally {
    rmSync(list, { recursive: true, force: true });
    await serve.stop();
  }
});
