import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { cKernel } from '../testing/c-kernel.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { startServe, type ServeProcess } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { controlWorkflow } from '../testing/control-workflow.ts';

/**
 * `geoflux deploy` against `geoflux serve` as users run them: a real zipper over QUIC, fed by the traffic
 * simulator, its MQTT sink on the embedded broker (port 0); the commands in processes of their own.
 */

const MONACO = resolve('../shared/data/osm/monaco.osm.pbf');
/** a module that is wasm but no kernel: it imports env.memory as a kernel must, and exports none of the ABI */
// prettier-ignore
const NOT_A_KERNEL = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0f, 0x01, 0x03, ...Buffer.from('env'), 0x06, ...Buffer.from('memory'), 0x02, 0x00, 0x01]);

const workflow = controlWorkflow('deploy-test', {
  metrics: true,
  rest: `sources:
  - name: traffic
    run: builtin:traffic
    params: { network: ${MONACO}, vehicles: 20, seed: 4, duration: 100000, speed: 20x }
`,
});

const geoflux = runGeoflux;

/** the deviceIds of the speeding rows the serve's broker publishes from now on */
async function speedingOn(serve: ServeProcess): Promise<{ devices: Set<string>; end: () => Promise<void> }> {
  const url = serve.out.stderr.match(/MQTT: embedded broker (mqtt:\/\/\S+)/)![1];
  const client = await mqtt.connectAsync(url);
  const devices = new Set<string>();
  client.on('message', (_, payload) => {
    const e = JSON.parse(payload.toString());
    if (e.kind === 'speeding') devices.add(e.deviceId);
  });
  await client.subscribeAsync('geoflux/#');
  return { devices, end: () => client.endAsync(true) };
}

describe('geoflux deploy, functions, undeploy against a running serve', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('deploys a kernel whose rows reach MQTT; refuses a wrong token, a non-kernel and bad params without touching it; a restart brings it back pinned by hash', { timeout: 180_000 }, async (ctx) => {
    // the README's C kernel, built as the README builds it
    const SPEEDING = cKernel(ctx, readFileSync('examples/kernels/c/speeding.c', 'utf8'));
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-deploy-'));
    dirs.push(dir);
    const file = join(dir, 'workflow.yaml');
    await writeFile(file, workflow);
    await writeFile(join(dir, 'bad.wasm'), NOT_A_KERNEL);
    let serve = await startServe(file);
    const trust = () => ['--zipper', serve.url, '--cert-hash', serve.certHash];
    const deploy = (token: string, kernel: string, name: string, params: string) =>
      geoflux(['deploy', kernel, ...trust(), '--token', token, '--name', name, '--observe', 'gps', '--emit', 'alerts', '--params', params]);
    try {
      let mq = await speedingOn(serve);
      const ok = await deploy('control-token', SPEEDING, 'fast', '{"limit": 5}');
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/function "fast" runs kernel [0-9a-f]{64} \(gps → alerts, 1 instance; checked in \d+ ms, started in \d+ ms\)/);
      const hash = ok.stdout.match(/kernel ([0-9a-f]{64})/)![1];
      await waitFor(() => mq.devices.size >= 5, { what: 'speeding rows of 5 vehicles on MQTT', ms: 60_000 });

      // the source's token is not the control token; nor is a guess
      for (const token of ['source-token', 'wrong']) {
        const r = await deploy(token, SPEEDING, 'other', '{}');
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/rejected control .*: bad control token for "geoflux-control"; the --token given is not the workflow's control.token\n$/);
        expect(r.stderr).not.toContain(token);
      }
      const notKernel = await deploy('control-token', join(dir, 'bad.wasm'), 'other', '{}');
      expect(notKernel.code).toBe(1);
      // said of the deployer's file: serve has only its stored copy of the module to name
      expect(notKernel.stderr).toContain(`geoflux deploy: ${join(dir, 'bad.wasm')}: refused: function "other": kernel speaks ABI (none: no abi_version export), this host speaks 2`);
      const badParams = await deploy('control-token', SPEEDING, 'other', '{"limit": -1, "unti": "km/h"}');
      expect(badParams.code).toBe(1);
      expect(badParams.stderr).toMatch(/refused: function "other": kernel speeding: params\.unti: unknown param \(did you mean "unit"\?\); params\.limit: must be more than 0/);
      const emitsUnknown = await geoflux(['deploy', SPEEDING, ...trust(), '--token', 'control-token', '--name', 'other', '--observe', 'gps', '--emit', 'alert']);
      expect(emitsUnknown.stderr).toMatch(/--emit: workflow "deploy-test" declares no tag "alert" \(did you mean "alerts"\?\)/);

      // each refusal counted by reason, and logged at the server, the second of a reason within 10 s counted for later
      const refused = async (reason: string) => total(parseExposition(await (await fetch(serve.metricsUrl!)).text()), 'geoflux_deploy_refused_total', { reason });
      expect([await refused('conformance'), await refused('tags')]).toEqual([2, 1]);
      expect(serve.out.stderr).toMatch(/deploy "other" refused \(conformance\): function "other": kernel speaks ABI/);
      expect(serve.out.stderr).toMatch(/deploy "other" refused \(tags\): --emit: workflow "deploy-test" declares no tag "alert"/);
      // frames held for it until its instance joined: it was new, not back
      expect(serve.out.stderr).toMatch(/function "fast" has its first instance: sending the \d+ frames held for it until then/);
      expect(serve.out.stderr).not.toMatch(/function "fast" is back/);

      // the running function is untouched: still one instance of the same module, still publishing
      const listed = await geoflux(['functions', ...trust(), '--token', 'control-token']);
      expect(listed.code).toBe(0);
      expect(listed.stdout.split('\n').filter((l) => /^(fast|other)\b/.test(l))).toEqual([expect.stringMatching(new RegExp(`^fast\\s+deployed\\s+${hash.slice(0, 12)}\\s+gps\\s+alerts\\s+1 \\(1-1\\)$`))]);
      mq.devices.clear();
      await waitFor(() => mq.devices.size >= 5, { what: 'speeding rows still flowing after the refusals', ms: 60_000 });
      await mq.end();

      expect(await serve.stop()).toBe(0);
      const saved = JSON.parse(await readFile(join(dir, '.geoflux', 'deployments.json'), 'utf8'));
      expect(saved).toEqual([expect.objectContaining({ name: 'fast', hash, params: { limit: 5 } })]);

      serve = await startServe(file);
      expect(serve.out.stderr).toMatch(new RegExp(`deployed function "fast" is back \\(kernel ${hash.slice(0, 12)}`));
      mq = await speedingOn(serve);
      await waitFor(() => mq.devices.size >= 5, { what: 'speeding rows after the restart', ms: 60_000 });
      await mq.end();

      const gone = await geoflux(['undeploy', 'fast', ...trust(), '--token', 'control-token']);
      expect(gone.code).toBe(0);
      expect(JSON.parse(await readFile(join(dir, '.geoflux', 'deployments.json'), 'utf8'))).toEqual([]);
    } finally {
      await serve.stop();
    }
  });
});
