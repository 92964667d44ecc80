import { readFileSync } from 'node:fs';

/**
 * How many datagrams the kernel dropped for the UDP socket bound to `port`, because its receive buffer was full
 * (Linux: the last column of /proc/net/udp and /proc/net/udp6). A full buffer means this process was behind,
 * so what a peer sent meanwhile may be gone: a silence that is ours, not the peer's (liveness.ts). Read at most
 * every `every` ms; 0 where the files are not there (other systems) or the socket is not listed.
 */
export function udpDrops(port: number, every = 200, read = readProcNetUdp): () => number {
  const local = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let at = -Infinity;
  let drops = 0;
  return () => {
    const now = performance.now();
    if (now - at < every) return drops;
    at = now;
    drops = 0;
    for (const line of read().split('\n')) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
      if (cols[1]?.endsWith(local) && cols.length >= 13) drops += Number(cols[cols.length - 1]) || 0;
    }
    return drops;
  };
}

function readProcNetUdp(): string {
  let text = '';
  for (const f of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      text += readFileSync(f, 'latin1');
    } catch {
      // not Linux, or no IPv6
    }
  }
  return text;
}
