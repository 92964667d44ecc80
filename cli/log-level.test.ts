import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../testing/free-port.ts';
import { waitFor } from '../testing/wait-for.ts';
import { chosenLogLevel } from './log-level.ts';

describe('the log level', () => {
  it('is --log-level if given, else GEOFLUX_LOG, else info; either in capitals', () => {
    expect(chosenLogLevel(undefined, undefined)).toBe('info');
    expect(chosenLogLevel(undefined, '')).toBe('info');
    expect(chosenLogLevel(undefined, 'warn')).toBe('warn');
    expect(chosenLogLevel(undefined, 'WARN')).toBe('warn');
    expect(chosenLogLevel('debug', 'warn')).toBe('debug');
    expect(chosenLogLevel('Error', undefined)).toBe('error');
  });

  it('that is no level is a usage error naming where it came from, with the nearest level', () => {
    expect(() => chosenLogLevel(undefined, 'wanr')).toThrow(expect.objectContaining({ name: 'UsageError', message: 'GEOFLUX_LOG "wanr" is no log level: debug, info, warn, error, silent (did you mean "warn"?)' }));
    expect(() => chosenLogLevel('verbose', 'warn')).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/^--log-level "verbose" is no log level/) }));
  });
});

/** `geoflux serve` in a process of its own with the given environment and flags, stopped once its /metrics answers */
async function serveOnce(env: Record<string, string>, flags: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-log-level-'));
  const port = await freePort();
  writeFileSync(join(dir, 'wf.yaml'), ['name: quiet', 'listen: [quic://127.0.0.1:0]', `metrics: { port: ${port} }`, 'tags: { gps: 16 }', 'functions: []'].join('\n'));
  const child = spawn(process.execPath, ['bin/geoflux.js', 'serve', join(dir, 'wf.yaml'), ...flags], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(() => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.ok, () => false), { what: () => `serve's /metrics; it said: ${stderr}`, abandon: () => (gone ? 'serve exited' : undefined) }).catch(() => undefined);
  child.kill('SIGINT');
  return { code: await exited, stderr };
}

describe('geoflux serve', () => {
  it('prints no info lines under GEOFLUX_LOG=warn (or WARN), and does under --log-level info whatever GEOFLUX_LOG says', async () => {
    for (const level of ['warn', 'WARN']) {
      const quiet = await serveOnce({ GEOFLUX_LOG: level });
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stderr).not.toMatch(/ INFO /);
    }
    const told = await serveOnce({ GEOFLUX_LOG: 'warn' }, ['--log-level', 'info']);
    expect(told.code).toBe(0);
    expect(told.stderr).toMatch(/ INFO  \[serve\] geoflux zipper "quiet"/);
  }, 60_000);

  it('refuses a GEOFLUX_LOG that is no level, with exit 2, before it starts', async () => {
    const bad = await serveOnce({ GEOFLUX_LOG: 'verbose' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('geoflux serve: GEOFLUX_LOG "verbose" is no log level: debug, info, warn, error, silent\n');
  }, 60_000);
});
