import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsTcp, startDaemon } from './daemon-process.ts';
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
  const d = await startDaemon(`mosquitto on port ${p}`, bin, ['-c', conf], () => acceptsTcp(p));
  return {
    url: `mqtt://127.0.0.1:${p}`,
    port: p,
    ...d,
    async stop() {
      await d.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
