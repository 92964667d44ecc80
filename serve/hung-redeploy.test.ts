import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from './deployment-store.ts';
import { connectSource } from '../source/connect-source.ts';
import { cKernel, onFastFix } from '../testing/c-kernel.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * The trial's worst finding, as she ran it: a kernel of her own that loops for ever (LOOPING, on a fix over
 * 100 m/s) deployed into a serve whose one host thread (`hosts: 1`) runs geoflux's own builtin,
 * undeployed once its hang had moved it apart, and deployed again under another name. Remembered by its
 * module's hash (in the state folder), the second deploy starts apart and its hang restarts only its own
 * host, not the builtin again; so does a third, after serve restarted.
 */

/** loops for ever on a fix over 100 m/s, and passes the ABI conformance suite deploy runs (the trial's evil2 looped on fixes in Monaco) */
const LOOPING = onFastFix('loops', 100, 'for (;;) sink++;');
const workflow = controlWorkflow('hung-redeploy', {
  metrics: true,
  rest: `  - name: fast
    observe: [gps]
    emit: [alerts]
    host: local
    run: builtin:speeding
    params: { limit: 5 }
`,
}).replace('tags:', 'hosts: 1\ntags:');

/** how many times the builtin was restarted by its host's hangs */
const builtinHangs = async (serve: ServeProcess): Promise<number> => {
  const m = (await (await fetch(serve.metricsUrl!)).text()).match(/^geoflux_function_restarts_total\{function="fast",reason="hung"\} (\S+)$/m);
  return m ? Number(m[1]) : 0;
};

describe('a kernel of the user\'s own that hung a shared host, deployed again under another name', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('starts in a host thread kept apart: its hang restarts geoflux\'s builtin once, not once per deploy, across a restart of serve too', { timeout: 180_000 }, async (ctx) => {
    const looping = cKernel(ctx, LOOPING);
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-hung-redeploy-'));
    dirs.push(dir);
    const file = join(dir, 'workflow.yaml');
    await writeFile(file, workflow);
    let serve = await startServe(file);
    const control = () => ['--zipper', serve.url, '--cert-hash', serve.certHash, '--token', 'control-token'];
    const deploy = (name: string) => runGeoflux(['deploy', looping, ...control(), '--name', name, '--observe', 'gps']);
    const runaway = async () => {
      const src = await connectSource({ name: 'runaway', zipper: serve.url, certHash: serve.certHash, token: 'source-token' });
      src.write('gps', [{ deviceId: 'runaway', t: Date.now(), lon: 7.42, lat: 43.73, speed: 150 }]);
      return src;
    };
    try {
      expect((await deploy('loopa')).stderr).toBe('');
      let src = await runaway();
      await waitFor(() => /host thread #1 hung: function "loopa" .* in host threads kept apart/.test(serve.out.stderr), { what: 'loopa moved apart at its first hang', ms: 60_000 });
      expect(await builtinHangs(serve)).toBe(1);
      // its host apart hangs on the fix twice more, and it is dropped: undeployed while its call runs, its host
      // would stay stuck until its watchdog, and a deploy into it meanwhile be refused (hung while it started)
      await waitFor(() => serve.out.stderr.includes('function "loopa": dropped a fix of "runaway"'), { what: 'the fix loopa loops on dropped as poison', ms: 90_000 });
      await src.close(0);
      expect((await runGeoflux(['undeploy', 'loopa', ...control()])).stderr).toBe('');

      expect((await deploy('loopb')).stderr).toBe('');
      expect(serve.out.stderr).toMatch(/function "loopb": its kernel \(SHA-256 [0-9a-f]{12}…\) hung a host thread it shared \(as function "loopa", [^)]+\): it starts in host thread #1 \(kernels of your own, kept apart\)/);
      src = await runaway();
      // its hang restarts its own host only
      await waitFor(() => /host thread #1 \(kernels of your own, kept apart\): its instances start again with it: function "loopb"/.test(serve.out.stderr), { what: 'the hang of loopb in its host apart', ms: 60_000 });
      expect(await builtinHangs(serve)).toBe(1);
      expect(serve.out.stderr.match(/host thread #1: its instances start again with it/g)).toHaveLength(1);
      await src.close(0);
      expect((await runGeoflux(['undeploy', 'loopb', ...control()])).stderr).toBe('');
      expect(await serve.stop()).toBe(0);

      // remembered in the state folder: after a restart of serve, a third name starts apart at once
      const hash = sha256(await readFile(looping));
      expect(JSON.parse(await readFile(join(dir, '.geoflux', 'hung-kernels.json'), 'utf8'))).toEqual({ [hash]: { function: 'loopa', at: expect.any(String) } });
      serve = await startServe(file);
      expect((await deploy('loopc')).stderr).toBe('');
      expect(serve.out.stderr).toMatch(/function "loopc": its kernel \(SHA-256 [0-9a-f]{12}…\) hung a host thread it shared \(as function "loopa", [^)]+\): it starts in host thread #1 \(kernels of your own, kept apart\)/);
    } finally {
      await serve.stop();
    }
  });
});
