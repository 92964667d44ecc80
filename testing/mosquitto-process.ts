import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait-for.ts';
import { findTool, installHint, MOSQUITTO } from './system-tool.ts';
import { freePort } from './free-port.ts';

export interface Mosquitto {
  url: string;
  port: number;
  /** kills the broker (SIGKILL by default: a crash, not a shutdown) */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** starts it again on the same port */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** what it logged */
  output(): string;
}

/**
 * Debian's mosquitto (MQTT 5) on a free loopback port with its own config in a temporary directory: for
 * tests and benchmarks that must meet a real, separate broker. A test calls `requireTool(ctx, MOSQUITTO)`
 * first (testing/system-tool.ts), to be skipped, or failed under CI, when it is not installed.
 */
export async function startMosquitto(port?: number): Promise<Mosquitto> {
  const bin = findTool(MOSQUITTO);
  if (!bin) throw new Error(installHint(MOSQUITTO));
  const p = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${p} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stdout', ''].join('\n'));
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const c = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d) => (log += d));
    c.stderr!.on('data', (d) => (log += d));
    const exited = new Promise<never>((_, reject) => c.once('exit', (code) => reject(new Error(`mosquitto exited (${code}) on port ${p}:\n${log}`))));
    await Promise.race([waitFor(() => accepts(p), { ms: 10_000, every: 50, what: `mosquitto on port ${p}` }), exited]);
    exited.catch(() => undefined);
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${p}`,
    port: p,
    kill,
    restart: start,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => log,
  };
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
