import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, now, percentile, table } from './stats.ts';

/**
 * How long the command takes to start, beside a bare `node -e 0` in the same run: `geoflux --help` (the CLI
 * as the package ships it, compiled, loading only the command specs), the same help through tsx from the
 * sources (how the CLI ran before it was compiled), and `geoflux serve` until its banner says it listens.
 */
const RUNS = 15;

/** ms from spawn until `ready` (exit, or a line on stderr matching it) */
function timeToReady(args: string[], ready?: RegExp): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GEOFLUX_LOG: 'info' } });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
      if (ready?.test(err)) {
        resolve(now() - t0);
        child.kill('SIGINT');
      }
    });
    child.on('exit', (code) => {
      if (!ready) return code === 0 ? resolve(now() - t0) : reject(new Error(`${args.join(' ')} exited ${code}: ${err}`));
      if (!ready.test(err)) reject(new Error(`${args.join(' ')} exited ${code} before it was ready: ${err}`));
    });
  });
}

async function median(args: string[], ready?: RegExp): Promise<{ p50: number; min: number }> {
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) ms.push(await timeToReady(args, ready));
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), min: ms[0] };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-startup-'));
  const wf = join(dir, 'workflow.yaml');
  writeFileSync(wf, 'name: startup\nlisten: [quic://127.0.0.1:0, webtransport://127.0.0.1:0]\ntags: { gps: 16 }\nfunctions:\n  - { name: f, observe: [gps] }\n');
  try {
    const base = await median(['-e', '0']);
    const rows: [string, { p50: number; min: number }][] = [
      ['node -e 0', base],
      ['geoflux --help', await median(['bin/geoflux.js', '--help'])],
      ['geoflux --version', await median(['bin/geoflux.js', '--version'])],
      ['geoflux --help from the sources, through tsx', await median(['--import', 'tsx', '-e', "const { main } = await import('./cli/main.ts'); await main(['--help'])", '--input-type=module'])],
      ['geoflux serve, until it listens (QUIC + WebTransport)', await median(['bin/geoflux.js', 'serve', wf, '--stats-every', '0'], /listening on:/)],
    ];
    console.log(`start-up, median of ${RUNS} runs (ms); ratio to a bare node start in the same run\n`);
    console.log(table(['command', 'p50 ms', 'min ms', '÷ node -e 0'], rows.map(([name, r]) => [name, fmt(r.p50, 1), fmt(r.min, 1), `${(r.p50 / base.p50).toFixed(2)}x`])));
    console.log(`\ngoal: geoflux --help within 3x of node -e 0`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
