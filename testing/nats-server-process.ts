import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type Daemon } from './daemon-process.ts';
import { freePort } from './free-port.ts';
import { findTool, installHint, NATS_SERVER } from './system-tool.ts';

export interface NatsServer extends Daemon {
  /** nats://127.0.0.1:<port> */
  url: string;
  port: number;
  /** the HTTP monitoring endpoint (/varz, /jsz, /healthz) */
  monitorUrl: string;
  /** the JetStream store directory, kept across restarts */
  storeDir: string;
  /** stops it and removes its store */
  stop(): Promise<void>;
}

/**
 * Debian's nats-server with JetStream, on free loopback ports with a store in a temporary directory: for
 * tests and benchmarks that must meet a real server; `restart()` brings it back on the same port and store.
 * It counts as ready when /healthz says so, which in 2.9 includes JetStream having loaded its store. A test
 * calls `requireTool(ctx, NATS_SERVER)` first (or uses testing/nats-suite.ts).
 */
export async function startNatsServer(o: { port?: number; args?: string[] } = {}): Promise<NatsServer> {
  const bin = findTool(NATS_SERVER);
  if (!bin) throw new Error(installHint(NATS_SERVER));
  const port = o.port ?? (await freePort());
  const monitor = await freePort([port]);
  const storeDir = mkdtempSync(join(tmpdir(), 'geoflux-nats-'));
  const monitorUrl = `http://127.0.0.1:${monitor}`;
  const args = ['-js', '-sd', storeDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitor), ...(o.args ?? [])];
  const d = await startDaemon(`nats-server on port ${port}`, bin, args, () => healthy(monitorUrl));
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl,
    storeDir,
    ...d,
    async stop() {
      await d.kill('SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

const healthy = async (monitorUrl: string) => {
  try {
    return (await fetch(`${monitorUrl}/healthz`)).ok;
  } catch {
    return false;
  }
};
