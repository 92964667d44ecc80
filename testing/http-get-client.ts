import { connect, type Socket } from 'node:net';

/**
 * A minimal HTTP/1.1 client over one kept-alive socket, one request at a time: GET a path, resolve its
 * status and body (Content-Length framed, as geoflux's servers answer). For the query benchmark, to set the
 * HTTP API beside Redis measured through a client as thin (testing/resp-client.ts), rather than through
 * Node's http module's own costs.
 */
export class HttpGetClient {
  private buf: Buffer = Buffer.alloc(0);
  private pending?: { resolve(r: { status: number; body: string }): void; reject(e: Error): void };

  private constructor(
    private readonly socket: Socket,
    private readonly host: string,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0 || !this.pending) return;
      const head = this.buf.toString('latin1', 0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.buf.length < end + 4 + length) return;
      const body = this.buf.toString('utf8', end + 4, end + 4 + length);
      this.buf = this.buf.subarray(end + 4 + length);
      const p = this.pending;
      this.pending = undefined;
      p.resolve({ status: Number(head.slice(9, 12)), body });
    });
    socket.on('error', (e) => this.pending?.reject(e));
  }

  static connect(url: string): Promise<HttpGetClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const s = connect(Number(u.port), u.hostname);
      s.once('connect', () => resolve(new HttpGetClient(s, u.host)));
      s.once('error', reject);
    });
  }

  /** `headers`: more header lines, each ended by CRLF */
  get(path: string, headers = ''): Promise<{ status: number; body: string }> {
    if (this.pending) throw new Error('one request at a time');
    this.socket.write(`GET ${path} HTTP/1.1\r\nhost: ${this.host}\r\n${headers}\r\n`);
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }
}
