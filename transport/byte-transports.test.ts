import { afterEach, describe, expect, it } from 'vitest';
import { dialQuicBytes, listenQuicBytes } from './quic-bytes.ts';
import { selfSignedTls, type ClientTrust } from './tls.ts';
import type { ByteDuplex } from './types.ts';
import { roundTrip } from './round-trip.ts';
import { dialWebTransportBytes, listenWebTransportBytes } from './webtransport-bytes.ts';

/** The two network transports, each as a real server on 127.0.0.1 and a client that dials it. */
const tls = await selfSignedTls();
const echo = (d: ByteDuplex) => void d.readable.pipeTo(d.writable).catch(() => {});

const kinds = [
  {
    name: 'quic',
    listen: () => listenQuicBytes('127.0.0.1', 0, { tls }, echo),
    dial: (port: number, trust: ClientTrust) => dialQuicBytes('127.0.0.1', port, { ...trust, timeout: 3000 }),
  },
  {
    name: 'webtransport (HTTP/2)',
    listen: () => listenWebTransportBytes('127.0.0.1', 0, '/geoflux', { tls }, echo),
    dial: (port: number, trust: ClientTrust) => dialWebTransportBytes(`https://127.0.0.1:${port}/geoflux`, { ...trust, timeout: 3000 }),
  },
];

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close().catch(() => {});
});


describe.each(kinds)('$name', ({ listen, dial }) => {
  it('echoes 1 MiB written in 16 KiB chunks', async () => {
    const s = await listen();
    open.push(s);
    const d = await dial(s.port, { certHash: tls.certHash });
    open.push(d);
    await roundTrip(d, 1024 * 1024);
  });

  it('trusts a pinned hash, a CA, or insecure on request; refuses otherwise', async () => {
    const s = await listen();
    open.push(s);
    for (const trust of [{ certHash: tls.certHash }, { ca: tls.cert }, { insecure: true }]) {
      const d = await dial(s.port, trust);
      open.push(d);
    }
    await expect(dial(s.port, { certHash: 'ab'.repeat(32) })).rejects.toThrow(/abab/);
    await expect(dial(s.port, {})).rejects.toThrow(/could not (connect|open)/);
  });

  it('keeps one client flowing when another aborts', async () => {
    const s = await listen();
    open.push(s);
    const a = await dial(s.port, { certHash: tls.certHash });
    const b = await dial(s.port, { certHash: tls.certHash });
    open.push(a, b);
    await roundTrip(a, 64 * 1024);
    await b.writable.abort(new Error('gone'));
    await b.close();
    await roundTrip(a, 256 * 1024);
  });
});

it('says which WebTransport protocol it speaks', async () => {
  const s = await listenWebTransportBytes('127.0.0.1', 0, '/geoflux', { tls }, echo);
  open.push(s);
  expect(s.protocol).toMatch(/^HTTP\/(2|3)/);
});
