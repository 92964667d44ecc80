import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A program a test runs that npm does not install, and the Debian packages that have it. */
export interface SystemTool {
  command: string;
  debian: string;
  /** only this path will do (Debian's /usr/bin/rustc, not a rustup one earlier on PATH) */
  at?: string;
  /** files of those packages the program needs besides itself (a target's C library, its standard library) */
  needs?: string[];
}

export const MOSQUITTO: SystemTool = { command: 'mosquitto', debian: 'mosquitto' };
export const MOSQUITTO_SUB: SystemTool = { command: 'mosquitto_sub', debian: 'mosquitto-clients' };
export const MOSQUITTO_PUB: SystemTool = { command: 'mosquitto_pub', debian: 'mosquitto-clients' };
export const PROMTOOL: SystemTool = { command: 'promtool', debian: 'prometheus' };
/** the JetStream server the cluster's tests and benchmark start (testing/nats-server-process.ts) */
export const NATS_SERVER: SystemTool = { command: 'nats-server', debian: 'nats-server' };

/** what the query benchmark measures the fleet index against (testing/redis-process.ts) */
export const REDIS_SERVER: SystemTool = { command: 'redis-server', debian: 'redis-server' };
/** the README's "Ask the fleet" lines ask the demo's query API with it */
export const CURL: SystemTool = { command: 'curl', debian: 'curl' };
/** gpsd's log player: starts a gpsd of its own and feeds it a recorded NMEA log (testing/gpsfake-process.ts) */
export const GPSFAKE: SystemTool = { command: 'gpsfake', debian: 'gpsd gpsd-clients', needs: ['/usr/sbin/gpsd'] };

/** the browser the dashboard tests and benchmark drive (testing/chromium.ts) */
export const CHROMIUM: SystemTool = { command: 'chromium', debian: 'chromium' };

/** C → wasm32-wasi: clang, its wasm linker, the WASI C library and the wasm32 compiler runtime */
export const CLANG_WASI: SystemTool = {
  command: 'clang',
  debian: 'clang lld wasi-libc libclang-rt-14-dev-wasm32',
  needs: ['/usr/bin/wasm-ld', '/usr/lib/wasm32-wasi/crt1-reactor.o', '/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a'],
};
/** Rust → wasm32-wasi: Debian's rustc (a rustup toolchain without the wasm32-wasi target will not do) and its wasm32 std */
export const RUSTC_WASI: SystemTool = { command: 'rustc', at: '/usr/bin/rustc', debian: 'rustc libstd-rust-dev-wasm32', needs: ['/usr/lib/rustlib/wasm32-wasi/lib'] };

/** Every tool some test needs, by command, so a README line can say which it runs. */
export const SYSTEM_TOOLS: readonly SystemTool[] = [MOSQUITTO, MOSQUITTO_SUB, MOSQUITTO_PUB, PROMTOOL, NATS_SERVER, REDIS_SERVER, CURL, GPSFAKE, CHROMIUM, CLANG_WASI];

// Debian puts daemons (mosquitto) in sbin, which a user's PATH often leaves out
const SBIN = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Where the tool is installed (with everything it needs), or undefined. */
export function findTool(tool: SystemTool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (tool.needs?.some((f) => !existsSync(f))) return undefined;
  if (tool.at) return executable(tool.at) ? tool.at : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN];
  return dirs.map((dir) => join(dir, tool.command)).find(executable);
}

export const installHint = (tool: SystemTool): string => `needs ${tool.at ?? tool.command}, which is not installed (Debian: apt-get install ${tool.debian})`;

export const onCi = (env: NodeJS.ProcessEnv = process.env): boolean => /^(true|1)$/i.test(env.CI ?? '');
const announced = new Set<string>();

/**
 * The path of a tool the calling test needs. When it is missing the test is skipped, printing what to
 * install, so `npm test` on a fresh machine fails only for real failures; with CI=true it fails instead,
 * so CI can never pass by skipping.
 */
export function requireTool(ctx: { skip(note: string): never }, tool: SystemTool, env: NodeJS.ProcessEnv = process.env): string {
  const path = findTool(tool, env);
  if (path) return path;
  const hint = installHint(tool);
  if (onCi(env)) throw new Error(`${hint}; CI=true, where a test that needs it fails rather than skips`);
  // vitest does not print a skip's note: say it once per test process
  if (!announced.has(tool.command)) console.warn(`skipped: ${hint}`);
  announced.add(tool.command);
  return ctx.skip(hint);
}
