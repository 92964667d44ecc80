import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectSource } from '../source/connect-source.ts';
import { crossingFix, SQUARES } from '../testing/fence-squares.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * What each isolate of a geofence-only `geoflux serve` loads (issue #23, item 5: each copy of a library is
 * heap in each thread that loads it): a kernel host thread loads the kernel's code and not the libraries of
 * what it does not run, and serve's own thread not those of sections the workflow does not have. Read by a
 * resolve hook preloaded into every thread of the compiled serve (testing/loaded-modules.mjs).
 */

const workflow = `name: fences-only
listen: [quic://127.0.0.1:0]
auth: { token: source-token }
metrics: { port: 0 }
tags: { gps: 16, fences: 17 }
functions:
  - name: fences
    observe: [gps]
    emit: fences
    host: local
    kernel: geofence
    params: { fences: squares.geojson }
`;

/** a library's modules, as a resolved URL names them */
const libraries = {
  zod: /\/node_modules\/zod\//,
  'all of RxJS': /\/node_modules\/rxjs\/dist\/cjs\/index\.js$/,
  'the OSM PBF reader': /\/node_modules\/osm-pbf-parser-node\//,
  yaml: /\/node_modules\/yaml\//,
  'the MQTT broker': /\/node_modules\/aedes\//,
  'the NATS client': /\/node_modules\/@nats-io\//,
  'the dashboard': /\/dist\/dashboard\//,
  'the map matcher': /\/dist\/kernels\/mapmatch\.js$/,
  'the road network reader': /\/dist\/network\/load-network\.js$/,
  'the fleet index': /\/dist\/query\/fleet-index\.js$/,
};
type Library = keyof typeof libraries;
const loadedOf = (urls: string[]) => (Object.keys(libraries) as Library[]).filter((l) => urls.some((u) => libraries[l].test(u)));

async function modulesByThread(log: string): Promise<Map<string, string[]>> {
  const byThread = new Map<string, string[]>();
  for (const line of (await readFile(log, 'utf8')).split('\n').filter(Boolean)) {
    const [thread, url] = line.split(' ');
    byThread.set(thread, [...(byThread.get(thread) ?? []), url]);
  }
  return byThread;
}

/** the workflow in a folder of its own, and serve's environment with the hook writing to `log` */
async function setUp(dirs: string[]): Promise<{ file: string; env: (log: string) => Record<string, string>; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'geoflux-modules-'));
  dirs.push(dir);
  await writeFile(join(dir, 'squares.geojson'), JSON.stringify(SQUARES));
  await writeFile(join(dir, 'workflow.yaml'), workflow);
  const env = (log: string) => ({ GEOFLUX_LOADED_MODULES: log, NODE_OPTIONS: `--import ${resolve('testing/loaded-modules.mjs')}` });
  return { file: join(dir, 'workflow.yaml'), env, dir };
}

describe('the modules each thread of a geofence-only serve loads', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('are those of what it runs: the host no validation library, no RxJS operators, no PBF reader, no map matcher or road network; serve none of these either, nor a broker, cluster, dashboard or fleet index', { timeout: 60_000 }, async () => {
    const { file, env, dir } = await setUp(dirs);
    const log = join(dir, 'modules.txt');
    const serve = await startServe(file, env(log));
    const src = await connectSource({ name: 'gw', zipper: serve.url, certHash: serve.certHash, token: 'source-token' });
    try {
      // a fix through the kernel: the host has made it and run it, whatever it loads on the way
      src.write('gps', Array.from({ length: 20 }, (_, s) => crossingFix(0, s)));
      const records = async () => Number((await (await fetch(serve.metricsUrl!)).text()).match(/^geoflux_function_records_total\{function="fences"\} (\S+)$/m)?.[1] ?? 0);
      await waitFor(records, { what: 'the fixes through the geofence', until: (n) => n >= 20 });
    } finally {
      await src.close(1000);
      await serve.stop();
    }
    const byThread = await modulesByThread(log);
    const hosts = [...byThread.keys()].filter((t) => t.startsWith('host'));
    expect(hosts).toHaveLength(1);
    const host = byThread.get(hosts[0])!;
    const main = byThread.get('serve')!;
    // the hook sees each: the kernel in the host, the workflow's reader (yaml) in serve
    expect(host.some((u) => u.endsWith('/dist/kernels/geofence.js'))).toBe(true);
    expect(loadedOf(main)).toContain('yaml');
    expect(loadedOf(host)).toEqual([]);
    // nor zod: the workflow's shape, the cluster section, deployments.json and sink-ids.json are checked without it
    // (codecs/shape-check.ts); nor RxJS and the fleet index, which only a function in serve's thread needs
    // (serve/zipper-thread-function.ts); nor another kernel's code (kernels/create-kernel.ts)
    expect(loadedOf(main).filter((l) => l !== 'yaml')).toEqual([]);
  });

  it('leave out the X.509 library once serve has a certificate stored to serve again', { timeout: 60_000 }, async () => {
    const { file, env, dir } = await setUp(dirs);
    const starts = [join(dir, 'first.txt'), join(dir, 'again.txt')];
    for (const log of starts) await (await startServe(file, env(log))).stop();
    const [first, again] = await Promise.all(starts.map(async (log) => (await modulesByThread(log)).get('serve')!));
    const x509 = (urls: string[]) => urls.some((u) => u.includes('/node_modules/@peculiar/x509/'));
    expect(x509(first)).toBe(true);
    expect(x509(again)).toBe(false);
  });
});
