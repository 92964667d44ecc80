import type { QUICClient, QUICConnection, QUICServer } from '@matrixai/quic';

interface SendDetail {
  id: string;
  msg: Buffer;
  port: number;
  address: string;
}

interface LibraryConnection {
  conn: {
    send(out: Uint8Array): [number, { to: { host: string; port: number } }] | null;
    isClosed(): boolean;
    isDraining(): boolean;
    peerError(): unknown;
  };
  secureEstablished: boolean;
  sendId: string;
  send(): Promise<void>;
  setConnTimeoutTimer(): void;
}

/** quiche never fills a datagram beyond this, on any path (see quic-bytes.ts) */
const LARGEST_DATAGRAM = 16_383;
/** quiche writes each datagram here, and it leaves as a copy of its own size before the next one is asked for */
const scratch = Buffer.allocUnsafe(LARGEST_DATAGRAM);

/**
 * The library's `send()` pays per datagram for a fresh buffer of the largest datagram size (16 KiB on loopback),
 * outside Node's buffer pool, plus one more for the call that finds nothing left to send, and for an event
 * dispatched through the library's event layers (the connection's, then a copy re-dispatched on the server) to
 * reach the handler that hands it to the socket. At a fix a second per connection, the datagrams are small and
 * those costs are most of a send. For an established connection this asks quiche for each datagram into one
 * scratch buffer, hands a copy of its own size to that same handler (whose error handling is unchanged), and
 * re-arms quiche's timer as the library does. The rest (the handshake, a connection closing or closed by its
 * peer, an error from quiche) goes to the library's own `send()`, which finds anything this one left.
 */
export function sendLean(connection: QUICConnection, owner: QUICServer | QUICClient): void {
  const c = connection as unknown as LibraryConnection;
  const librarySend = c.send.bind(c);
  const toSocket = (owner as unknown as { handleEventQUICConnectionSend(e: { detail: SendDetail }): Promise<void> }).handleEventQUICConnectionSend;
  c.send = async () => {
    const quiche = c.conn;
    if (!c.secureEstablished || quiche.isClosed() || quiche.isDraining()) return librarySend();
    for (;;) {
      let sent: ReturnType<LibraryConnection['conn']['send']>;
      try {
        sent = quiche.send(scratch);
      } catch {
        return librarySend(); // which meets the error again, and reports it as the library does
      }
      if (sent === null) break;
      const [length, { to }] = sent;
      const msg = Buffer.allocUnsafe(length);
      scratch.copy(msg, 0, 0, length);
      void toSocket({ detail: { id: c.sendId, msg, port: to.port, address: to.host } });
    }
    c.setConnTimeoutTimer();
    if (quiche.peerError() != null) return librarySend();
  };
}
