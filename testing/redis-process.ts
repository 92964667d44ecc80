import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from './daemon-process.ts';
import { freePort } from './free-port.ts';
import { RespClient } from './resp-client.ts';
import { findTool, installHint, REDIS_SERVER } from './system-tool.ts';

/**
 * Debian's redis-server on a free loopback port, in a temporary directory, persisting nothing: what the
 * query benchmark measures the fleet index against.
 */
export async function startRedis(): Promise<{ port: number; stop(): Promise<void> }> {
  const bin = findTool(REDIS_SERVER);
  if (!bin) throw new Error(installHint(REDIS_SERVER));
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-redis-'));
  const ping = async () => {
    const c = await RespClient.connect(port).catch(() => undefined);
    if (!c) return false;
    const pong = await c.call('PING').catch(() => undefined);
    c.close();
    return pong === 'PONG';
  };
  const d = await startDaemon(`redis-server on port ${port}`, bin, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], ping);
  return {
    port,
    async stop() {
      await d.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
