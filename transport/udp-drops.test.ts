import { describe, expect, it } from 'vitest';
import { udpDrops } from './udp-drops.ts';

// /proc/net/udp as Linux writes it (one socket bound to 127.0.0.1:33074, 0x8132, with 27,117 drops; another on 54897)
const PROC = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
 1022: 0100007F:D671 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4151931 2 0000000000000000 0
 1467: 0100007F:8132 00000000:0000 07 00000000:0041A3C0 00:00000000 00000000     0        0 4170012 2 0000000000000000 27117
`;

describe('a UDP socket’s drops', () => {
  it('reads the drops of the socket bound to the port, and nothing for a port not listed', () => {
    expect(udpDrops(33074, 0, () => PROC)()).toBe(27117);
    expect(udpDrops(54897, 0, () => PROC)()).toBe(0);
    expect(udpDrops(4433, 0, () => PROC)()).toBe(0);
  });

  it('reads the files at most every so often: it is asked at every heartbeat of every connection', () => {
    let reads = 0;
    const drops = udpDrops(33074, 60_000, () => (reads++, PROC));
    drops();
    drops();
    expect(reads).toBe(1);
  });

  it('reads this machine’s own socket, where the system lists them', async () => {
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const { existsSync } = await import('node:fs');
    expect(udpDrops(s.address().port)()).toBe(0); // listed with no drops on Linux; not listed elsewhere: 0 too
    expect(existsSync('/proc/net/udp')).toBe(process.platform === 'linux');
    s.close();
  });
});
