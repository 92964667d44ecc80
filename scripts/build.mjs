// `npm run build` (and `prepare`, so a fresh clone's `npm install` does it): what the package ships, in dist/.
//   1. the kernels, AssemblyScript → .wasm (kernels/build.mjs; skipped when sources and compiler are unchanged)
//   2. the TypeScript, → JavaScript and .d.ts with the sources' layout (tsc -p tsconfig.build.json)
//   3. the built-in kernels' .wasm beside the compiled host (dist/kernels/build/), where it looks for them
//   4. the dashboard's page, bundled for browsers with esbuild (MapLibre, mqtt.js, the browser kernel host) into
//      dist/dashboard/page/, with MapLibre's worker beside it: the package ships it built, nobody bundles at run time
// dist/ is made afresh each time, so a module that was moved or removed cannot linger in the package; it is built
// beside dist/ and swapped in at the end, so the clone's own `geoflux` (bin/ → dist/) keeps working while
// `npm test` rebuilds it, and a failed build leaves the last good dist/ in place.
import { execFileSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The first `npx geoflux` in a clone links the clone into npm's cache and runs its prepare again: keep what
// `npm install` built, rather than half a minute of silence that takes dist/ from under a running `npm start`
if (process.env.npm_command === 'exec' && process.env.npm_lifecycle_event === 'prepare' && existsSync(join(root, 'dist/cli/main.js'))) process.exit(0);
const step = (what, f) => {
  const t0 = performance.now();
  f();
  process.stderr.write(`build: ${what} in ${Math.round(performance.now() - t0)} ms\n`);
};

const dist = join(root, 'dist');
// in the same directory as dist/, so the swap is a rename; by process id, so two builds never share one
const next = join(root, `dist.${process.pid}.tmp`);
process.on('exit', () => rmSync(next, { recursive: true, force: true }));

step('kernels', () => execFileSync(process.execPath, [join(root, 'kernels/build.mjs')], { stdio: 'inherit' }));
step('JavaScript and declarations (tsc)', () =>
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', next], { stdio: 'inherit' }),
);
step('kernels copied to dist/kernels/build', () => {
  const from = join(root, 'kernels/build');
  const to = join(next, 'kernels/build');
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f.endsWith('.wasm')) copyFileSync(join(from, f), join(to, f));
});
step('dashboard page (esbuild)', () => {
  const page = join(root, 'dashboard/page');
  const out = join(next, 'dashboard/page');
  buildSync({
    entryPoints: [{ in: join(page, 'main.ts'), out: 'dashboard' }, { in: join(page, 'dashboard.css'), out: 'dashboard' }],
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(page, 'index.html'), join(out, 'index.html'));
  copyFileSync(join(root, 'node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs'), join(out, 'maplibre-gl-worker.mjs'));
});
// two renames: dist/ is away only between them, not for the build's half minute
const old = join(root, `dist.${process.pid}.old`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });
