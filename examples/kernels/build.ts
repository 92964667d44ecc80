/**
 * Builds the example kernels in other languages (examples/kernels/<lang>/<name>.wasm) with Debian's
 * toolchains: C with clang, lld and wasi-libc; Rust with Debian's rustc and libstd-rust-dev-wasm32 (not a
 * rustup rustc, which lacks the wasm32-wasi target offline). A kernel is rebuilt only when its sources or
 * its command change (a hash stamp beside it). `.ci/run` runs this (`node --import tsx examples/kernels/build.ts`)
 * after installing the packages; tests call exampleKernel(), which builds on demand and, when a toolchain is
 * missing, skips the test saying what to install (fails it under CI=true).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLANG_WASI, findTool, installHint, onCi, requireTool, RUSTC_WASI, type SystemTool } from '../../testing/system-tool.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface Example {
  lang: 'c' | 'rust';
  name: string;
  /** files the build reads, beside the kernel's own */
  with: string[];
}

export const EXAMPLE_KERNELS: readonly Example[] = [
  { lang: 'c', name: 'speeding', with: ['geoflux_kernel.h'] },
  { lang: 'c', name: 'inside', with: ['geoflux_kernel.h'] },
  { lang: 'rust', name: 'stops', with: ['geoflux_kernel.rs'] },
];

export type ExampleName = (typeof EXAMPLE_KERNELS)[number]['name'];

const TOOLS: Record<Example['lang'], SystemTool> = { c: CLANG_WASI, rust: RUSTC_WASI };

/** the command that builds a kernel, as the README shows it */
function command(k: Example, tool: string): string[] {
  const src = `${k.name}.${k.lang === 'c' ? 'c' : 'rs'}`;
  const out = `${k.name}.wasm`;
  return k.lang === 'c'
    ? [tool, '--target=wasm32-wasi', '-O2', '-mexec-model=reactor', '-Wl,--import-memory', '-Wl,--strip-all', '-Wall', '-Werror', '-o', out, src]
    : [tool, '--edition', '2021', '--target', 'wasm32-wasi', '--crate-type', 'cdylib', '-O', '-C', 'strip=symbols', '-C', 'link-arg=--import-memory', '-D', 'warnings', '-o', out, src];
}

export const examplePath = (k: Example): string => join(here, k.lang, `${k.name}.wasm`);

/** Builds one kernel with the toolchain at `tool`, unless its stamp says it is up to date; returns its path. */
function build(k: Example, tool: string): string {
  const dir = join(here, k.lang);
  const cmd = command(k, tool);
  const hash = createHash('sha256').update(cmd.join(' '));
  for (const f of [cmd.at(-1)!, ...k.with]) hash.update(f).update(readFileSync(join(dir, f)));
  const digest = hash.digest('hex').slice(0, 16);
  const target = examplePath(k);
  const stamp = `${target}.hash`;
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return target;
  const t0 = performance.now();
  try {
    execFileSync(cmd[0], cmd.slice(1), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`${relative(process.cwd(), join(dir, cmd.at(-1)!))} failed to build (${cmd.join(' ')}):\n${err.stderr?.toString() || err.message}`);
  }
  writeFileSync(stamp, digest);
  process.stderr.write(`examples: built ${k.lang}/${k.name}.wasm in ${Math.round(performance.now() - t0)} ms\n`);
  return target;
}

const example = (name: ExampleName) => EXAMPLE_KERNELS.find((e) => e.name === name)!;

/** An example kernel, built if need be, for a test: skipped when its toolchain is missing (failed under CI=true). */
export function exampleKernel(ctx: { skip(note: string): never }, name: ExampleName): string {
  const k = example(name);
  return build(k, requireTool(ctx, TOOLS[k.lang]));
}

/** An example kernel, built if need be (a benchmark's row); when its toolchain is missing, what to install. */
export function tryExampleKernel(name: ExampleName): { path: string } | { missing: string } {
  const k = example(name);
  const tool = findTool(TOOLS[k.lang]);
  return tool ? { path: build(k, tool) } : { missing: installHint(TOOLS[k.lang]) };
}

// run as a script: build them all; a missing toolchain is said, and fails only under CI
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let missing = 0;
  for (const k of EXAMPLE_KERNELS) {
    const tool = findTool(TOOLS[k.lang]);
    if (!tool) {
      missing++;
      process.stderr.write(`examples: ${k.lang}/${k.name}.wasm not built: ${installHint(TOOLS[k.lang])}\n`);
      continue;
    }
    build(k, tool);
  }
  process.stderr.write(`examples: ${EXAMPLE_KERNELS.length - missing} of ${EXAMPLE_KERNELS.length} kernels ready\n`);
  if (missing && onCi()) process.exit(1);
}
