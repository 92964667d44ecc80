import { connect, type Socket } from 'node:net';
import { waitFor } from './wait-for.ts';

/** A device on a TCP connection, as a test plays it: sends bytes, reads the server's answers in order, sees the close. */
export interface TcpDevice {
  socket: Socket;
  send(bytes: Buffer | string): void;
  /** the next `n` bytes the server sent */
  read(n: number): Promise<Buffer>;
  closed(): Promise<void>;
}

export async function tcpDevice(port: number): Promise<TcpDevice> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let got: Buffer = Buffer.alloc(0);
  let ended = false;
  socket.on('data', (c: Buffer) => (got = Buffer.concat([got, c])));
  socket.on('close', () => (ended = true));
  socket.on('error', () => {});
  return {
    socket,
    send: (bytes) => void socket.write(bytes),
    async read(n) {
      await waitFor(() => got.length >= n || ended, { what: () => `${n} bytes from the server (have ${got.toString('hex')})` });
      if (got.length < n) throw new Error(`the server closed after ${got.toString('hex')}, before ${n} bytes`);
      const out = got.subarray(0, n);
      got = got.subarray(n);
      return out;
    },
    closed: () => waitFor(() => ended, 'the server to close the connection').then(() => undefined),
  };
}
