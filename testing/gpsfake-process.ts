import { acceptsTcp, startDaemon, type Daemon } from './daemon-process.ts';
import { freePort } from './free-port.ts';
import { findTool, GPSFAKE, installHint } from './system-tool.ts';

/**
 * gpsd's gpsfake on a free loopback port: it starts a real gpsd there and feeds it `log` (recorded NMEA)
 * through a pseudo-terminal, a sentence every 50 ms (-c 0.05), over and over (a client that connects late
 * still sees every fix of the log).
 */
export async function startGpsfake(log: string): Promise<Daemon & { port: number }> {
  const bin = findTool(GPSFAKE);
  if (!bin) throw new Error(installHint(GPSFAKE));
  const port = await freePort();
  const d = await startDaemon(`gpsfake on port ${port}`, bin, ['-q', '-c', '0.05', '-P', String(port), log], () => acceptsTcp(port));
  return { ...d, port };
}
