import { execFile } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * geoflux as its users get it: the tarball `npm pack` makes (from the dist/ that `npm test` has just built),
 * installed into a scratch project outside the repository, then used from plain Node, from TypeScript, and
 * bundled for a browser. Nothing here imports the repository's sources.
 */

const run = promisify(execFile);
const ROOT = resolve('.');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
let dir: string;
let tarball: string;
let packed: string[];

beforeAll(async () => {
  if (!existsSync('dist/index.js')) throw new Error('dist/ is missing: run npm run build (npm test does)');
  dir = mkdtempSync(join(tmpdir(), 'geoflux-consumer-'));
  // prepare already ran as part of npm test's build: pack what is built
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  const info = JSON.parse(stdout)[0] as { filename: string; files: { path: string }[] };
  tarball = join(dir, info.filename);
  packed = info.files.map((f) => f.path);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fleet-app', private: true, type: 'module' }));
  // the README's own install line, with the path to this tarball; from the registry (or npm's cache) the
  // rest: rxjs for the app's own operators, @types/node for the TypeScript check
  const [, file, rest] = readmeInstall();
  expect(file, "the README's install line names the file npm pack makes").toBe(info.filename);
  await run('npm', ['install', tarball, ...rest.split(' '), '--no-audit', '--no-fund', '--prefer-offline', '@types/node@20'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
  cpSync('packaging/consumer', dir, { recursive: true });
  // what the README's examples name as "your files"
  symlinkSync(resolve('../shared/data/osm/monaco.osm.pbf'), join(dir, 'monaco.osm.pbf'));
  writeFileSync(join(dir, 'drive.csv'), 'lon,lat,time\n7.4160,43.7310,2026-01-01T08:00:00Z\n7.4195,43.7335,2026-01-01T08:00:20Z\n7.4230,43.7360,2026-01-01T08:00:40Z\n');
}, 240_000);

/** The README's API section, where a user starts. */
function readmeApiSection(): string {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('## Using geoflux from your own code');
  return readme.slice(start, readme.indexOf('\n## ', start + 1));
}

/** The code blocks of the README's API section, as a user would paste them. */
function readmeExamples(lang: 'js' | 'ts'): string[] {
  return [...readmeApiSection().matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** `npm install <path>/<tarball> <the rest>` as the API section prints it: [the line, the tarball's name, the rest] */
function readmeInstall(): RegExpExecArray {
  const line = /^npm install \S*\/(geoflux-[\d.]+\.tgz) ([^#\n]*?)\s*(?:#.*)?$/m.exec(readmeApiSection());
  if (!line) throw new Error("README.md's API section prints no `npm install <path>/geoflux-<version>.tgz ...` line");
  return line;
}

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the compiled code, its declarations and the prebuilt kernels, and no sources or tests', () => {
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/kernels/index.js', 'dist/kernels/browser.js', 'dist/cli/main.js', 'bin/geoflux.js']) expect(packed).toContain(f);
    for (const k of ['geofence', 'hotspot', 'mapmatch', 'roam']) expect(packed).toContain(`dist/kernels/build/${k}.wasm`);
    // the dashboard's page, bundled at build time with the licences of what it bundles
    for (const f of ['index.html', 'dashboard.js', 'dashboard.css', 'dashboard.js.LEGAL.txt', 'maplibre-gl-worker.mjs']) expect(packed).toContain(`dist/dashboard/page/${f}`);
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((f) => /\.test\.|testdata|kernels\/assembly|kernels\/build\/testing/.test(f))).toEqual([]);
  });

  it('installs as a real copy, compiling nothing: no install scripts, no compiler among its dependencies', () => {
    const installed = join(dir, 'node_modules/geoflux');
    expect(lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(realpathSync(installed).startsWith(ROOT)).toBe(false);
    const pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts?.[s]).toBeUndefined();
    const modules = readdirSync(join(dir, 'node_modules'));
    expect(modules).not.toContain('assemblyscript');
    expect(modules).not.toContain('typescript');
  });
});

describe('a consumer of the installed package', () => {
  it('imports every entry from plain Node and runs source → zipper → function → function over QUIC', async () => {
    const { stdout, stderr } = await run(process.execPath, ['app.mjs'], { cwd: dir, timeout: 60_000 });
    // kernels use node:wasi on purpose: Node's warning that it is experimental is not the user's to read
    expect(stderr).not.toContain('ExperimentalWarning');
    expect(stdout).toMatch(/^geoflux: .*\bconnectSource\b.*\bconnectStreamFunction\b/m);
    expect(stdout).toMatch(/^geoflux\/operators: .*\bbatchBy\b.*\bkernel\b/m);
    expect(stdout).toMatch(/^geoflux\/kernels: .*\bcreateGeofence\b.*\bcreateHotspot\b.*\bcreateMapMatch\b.*\bloadKernel\b/m);
    expect(stdout).toMatch(/^geoflux\/workflow: .*\bloadWorkflow\b.*\bserveWorkflow\b/m);
    expect(stdout).toMatch(/^geoflux\/simulators: .*\breplayTraces\b.*\bsimulateTraffic\b/m);
    expect(stdout).toContain('round trip over quic: enter yard, exit yard');
    expect(stdout).toContain('library call: enter yard, exit yard');
  }, 90_000);

  it("runs every JavaScript example of the README's API section as printed", async () => {
    const examples = readmeExamples('js');
    expect(examples.length).toBeGreaterThanOrEqual(5);
    const out: string[] = [];
    for (const [i, code] of examples.entries()) {
      writeFileSync(join(dir, `readme-${i}.mjs`), code);
      const r = await run(process.execPath, [`readme-${i}.mjs`], { cwd: dir, timeout: 60_000 }).catch((e: Error & { stdout: string; stderr: string }) => {
        throw new Error(`README example ${i + 1} failed:\n${code}\n${e.stderr}`);
      });
      expect(r.stdout, `README example ${i + 1} prints nothing`).not.toBe('');
      expect(r.stderr, `README example ${i + 1}`).not.toContain('ExperimentalWarning');
      out.push(r.stdout);
    }
    const all = out.join('\n');
    expect(all).toContain('{"kind":"speeding","deviceId":"truck-7","speed":35}');
    expect(all).not.toContain('truck-8');
    expect(all).toMatch(/enter Depot\n.*exit Depot/);
    expect(all).toContain('x.yaml:5:16 functions[0].obsrve: unknown field (did you mean "observe"?)');
    expect(all).toMatch(/\d+ fixes from 50 vehicles over 2 simulated minutes/);
    expect(all).toContain('3 fixes, the first at 2026-01-01T08:00:00.000Z');
  }, 300_000);

  it('type-checks TypeScript against the declarations it ships, the README\'s TypeScript example included', async () => {
    readmeExamples('ts').forEach((code, i) => writeFileSync(join(dir, `readme-${i}.ts`), code));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] }, include: ['typed.ts', 'readme-*.ts'] }),
    );
    const r = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir }).catch((e: { stdout: string; code: number }) => e);
    expect((r as { stdout: string }).stdout).toBe('');
  }, 60_000);

  it('bundles geoflux/kernels for a browser with esbuild, with nothing of Node inside, and the bundle computes the same events', async () => {
    const result = await build({ entryPoints: [join(dir, 'browser.mjs')], absWorkingDir: dir, bundle: true, platform: 'browser', format: 'esm', outfile: join(dir, 'page.js'), logLevel: 'silent' });
    expect(result.errors).toEqual([]);
    const bundle = readFileSync(join(dir, 'page.js'), 'utf8');
    expect(bundle).not.toMatch(/from ["']node:|require\(["']node:/);
    const wasm = readFileSync(join(dir, 'node_modules/geoflux/dist/kernels/build/geofence.wasm'));
    const { fenceEvents } = (await import(join(dir, 'page.js'))) as { fenceEvents: (w: Uint8Array, f: object[]) => Promise<string[]> };
    const fixes = [-0.5, 0.5, 1.5].map((lon, i) => ({ deviceId: 'v', t: i * 1000, lon, lat: 0.5 }));
    expect(await fenceEvents(wasm, fixes)).toEqual(['enter yard v', 'exit yard v']);
  }, 60_000);
});
