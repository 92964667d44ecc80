import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';

/** The `geoflux` command as a user runs it: a real process, real QUIC on 127.0.0.1. */
const BIN = 'bin/geoflux.js';

function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GEOFLUX_LOG: 'info' } });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out, exited };
}

const run = async (args: string[]) => {
  const p = start(args);
  return { code: await p.exited, ...p.out };
};

async function waitFor<T>(what: () => T | null | false, label: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const m = what();
    if (m) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stop = async (p: { child: ChildProcess; exited: Promise<number | null> }) => {
  p.child.kill('SIGINT');
  return p.exited;
};

describe('geoflux CLI', () => {
  it('has --help on every command and --version', async () => {
    for (const args of [['--help'], ['serve', '--help'], ['run', '--help']]) {
      const r = await run(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: geoflux/);
    }
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('exits 2 on a bad flag and 1 on a bad workflow, saying why', async () => {
    const flag = await run(['run', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--bogus'");
    const wf = await run(['serve', 'workflows/testdata/bad/unknown-tag.yaml']);
    expect(wf.code).toBe(1);
    expect(wf.stderr.trim()).toBe(
      'geoflux serve: workflows/testdata/bad/unknown-tag.yaml:14:5 functions[1].observe: unknown tag "gsp" (did you mean "gps"?)',
    );
  });

  it('serves a workflow that a function run with `geoflux run` joins over QUIC', async () => {
    const serve = start(['serve', 'workflows/testdata/good/cli.yaml', '--stats-every', '0']);
    try {
      const [, url] = await waitFor(() => serve.out.stderr.match(/^\s+(quic:\/\/127\.0\.0\.1:\d+)/m), 'the banner');
      const [, hash] = serve.out.stderr.match(/SHA-256 ([0-9a-f]{64})/)!;
      const fn = start(['run', 'workflows/examples/speeding.ts', '--zipper', url, '--cert-hash', hash, '--token', 'cli-token', '--params', '{"limitKmh": 100}']);
      await waitFor(() => /"kind":"speeding"/.test(serve.out.stdout), 'an alert printed by the zipper');
      expect(await stop(fn)).toBe(0);
      expect(fn.out.stderr).toMatch(/stopping: received \d+, emitted \d+/);
    } finally {
      expect(await stop(serve)).toBe(0);
    }
    expect(serve.out.stderr).toContain('stopped');
  });
});
