import type { QUICClient, QUICConnection } from '@matrixai/quic';
import { describe, expect, it } from 'vitest';
import { sendLean } from './quic-lean-send.ts';

/** A connection as the library holds it: quiche with datagrams to give, and the library's own send() */
function setup(datagrams: number[], o: { established?: boolean; peerError?: unknown; throws?: boolean } = {}) {
  const queue = [...datagrams];
  const calls = { library: 0, timer: 0 };
  const sent: { msg: Buffer; port: number; address: string; id: string }[] = [];
  const quiche = {
    send(out: Uint8Array) {
      if (o.throws) throw new Error('InvalidState');
      const n = queue.shift();
      if (n === undefined) return null;
      out.fill(n % 256, 0, n);
      return [n, { to: { host: '127.0.0.1', port: 4433 } }];
    },
    isClosed: () => false,
    isDraining: () => false,
    peerError: () => o.peerError ?? null,
  };
  const connection = {
    conn: quiche,
    secureEstablished: o.established ?? true,
    sendId: 'c1',
    async send() {
      calls.library++;
    },
    setConnTimeoutTimer() {
      calls.timer++;
    },
  };
  const owner = { handleEventQUICConnectionSend: async (e: { detail: (typeof sent)[number] }) => void sent.push(e.detail) };
  sendLean(connection as unknown as QUICConnection, owner as unknown as QUICClient);
  return { send: () => connection.send(), calls, sent };
}

describe('sending a QUIC connection’s datagrams', () => {
  it('hands each datagram to the socket’s handler in a buffer of its own size, and re-arms quiche’s timer once', async () => {
    const { send, calls, sent } = setup([90, 1200]);
    await send();
    expect(sent.map((s) => [s.msg.length, s.msg[0], s.port, s.address, s.id])).toEqual([
      [90, 90, 4433, '127.0.0.1', 'c1'],
      [1200, 1200 % 256, 4433, '127.0.0.1', 'c1'],
    ]);
    expect(sent[0].msg.buffer === sent[1].msg.buffer && sent[0].msg.byteOffset === sent[1].msg.byteOffset).toBe(false);
    expect(calls).toEqual({ library: 0, timer: 1 });
  });

  it('leaves the handshake, a peer’s close and quiche’s errors to the library', async () => {
    for (const o of [{ established: false }, { peerError: { errorCode: 0 } }, { throws: true }]) {
      const { send, calls } = setup([90], o);
      await send();
      expect(calls.library).toBe(1);
    }
  });
});
