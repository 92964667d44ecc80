import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { findTool, installHint, NATS_SERVER } from './system-tool.ts';
import { waitFor } from './wait-for.ts';

export interface NatsServer {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** the HTTP monitoring endpoint (/varz, /jsz, /healthz) */
  monitorUrl: string;
  /** the JetStream store directory, kept across restarts */
  storeDir: string;
  /** kills the server (SIGKILL by default: a crash, not a shutdown) */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** starts it again on the same ports and store */
  restart(): Promise<void>;
  /** stops it and removes its store */
  stop(): Promise<void>;
  /** what it logged */
  output(): string;
}

/**
 * Debian's nats-server with JetStream, on free loopback ports with a store in a temporary directory: for
 * tests and benchmarks that must meet a real server. It counts as ready when /healthz says so, which in
 * 2.9 includes JetStream having loaded its store. A test calls `requireTool(ctx, NATS_SERVER)` first.
 */
export async function startNatsServer(o: { port?: number; args?: string[] } = {}): Promise<NatsServer> {
  const bin = findTool(NATS_SERVER);
  if (!bin) throw new Error(installHint(NATS_SERVER));
  const port = o.port ?? (await freePort());
  const monitor = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'geoflux-nats-'));
  const monitorUrl = `http://127.0.0.1:${monitor}`;
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const args = ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), ...(o.args ?? [])];
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d) => (log += d));
    c.stderr!.on('data', (d) => (log += d));
    let exited: string | undefined;
    c.once('exit', (code, signal) => (exited ??= `nats-server exited (${code ?? signal}) on port ${port}:\n${log}`));
    await waitFor(() => healthy(monitorUrl), { ms: 15_000, every: 50, what: `nats-server on port ${port}`, abandon: () => exited });
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
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl,
    storeDir,
    kill,
    restart: start,
    async stop() {
      await kill('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
    output: () => log,
  };
}

const healthy = async (monitorUrl: string) => {
  try {
    return (await fetch(`${monitorUrl}/healthz`)).ok;
  } catch {
    return false;
  }
};
