// Builds every kernel in kernels/assembly (one .wasm per module that exports `process`) into kernels/build,
// and the test kernels of kernels/assembly/testing into kernels/build/testing. Run by `npm install` and `npm run build:kernels`. A kernel is rebuilt only when the hash
// of the sources and compiler changes, so a second install costs nothing.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'assembly');
const out = join(here, 'build');
mkdirSync(out, { recursive: true });

const sources = readdirSync(src, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .sort();
const kernels = sources.filter((f) => /export function process\(/.test(readFileSync(join(src, f), 'utf8')));
mkdirSync(join(out, 'testing'), { recursive: true });
const hash = createHash('sha256');
for (const f of sources) hash.update(f).update(readFileSync(join(src, f)));
// the WASI shim's own config, plus: a reactor (`_initialize`, not `_start`), memory the host creates (so
// the host sets its cap), and full optimisation
// (asc resolves the shim's `lib` against the working directory, so build from the package root)
process.chdir(join(here, '..'));
// The shim's settings but one: an abort traps (`unreachable`) instead of writing its message through WASI
// and calling proc_exit, which crashed Node 20's node:wasi (SIGABRT, SIGSEGV) once a few dozen instances had
// aborted that way; a trap the host turns into a KernelTrap like any other.
const SHIM = './node_modules/@assemblyscript/wasi-shim';
const shimUse = JSON.parse(readFileSync(join(SHIM, 'asconfig.json'), 'utf8')).options.use.map((u) => (u.startsWith('abort=') ? 'abort=' : u));
const FLAGS = ['--lib', `${SHIM}/assembly`, ...shimUse.flatMap((u) => ['--use', u]), '--exportStart', '_initialize', '--importMemory', '--initialMemory', '2', '-O3', '--runtime', 'incremental'];
hash.update(FLAGS.slice(2).join(' ')).update(asc.version);
const digest = hash.digest('hex').slice(0, 16);

let built = 0;
for (const file of kernels) {
  const name = file.replace(/\.ts$/, '');
  const target = join(out, `${name}.wasm`);
  const stamp = join(out, `${name}.hash`);
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) continue;
  const t0 = performance.now();
  const { error, stderr } = await asc.main([join(src, file), ...FLAGS, '--outFile', target], {});
  if (error) {
    process.stderr.write(stderr.toString());
    throw new Error(`kernel ${name} failed to build: ${error.message}`);
  }
  writeFileSync(stamp, digest);
  built++;
  process.stderr.write(`kernels: built ${name}.wasm in ${Math.round(performance.now() - t0)} ms\n`);
}
process.stderr.write(`kernels: ${built} built, ${kernels.length - built} up to date (${kernels.join(', ')})\n`);
