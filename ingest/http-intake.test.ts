import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { logger } from '../log/logger.ts';
import { listenHttp } from './http-intake.ts';

it('on abort, cuts a request still open and says when no connection is left', async () => {
  const stop = new AbortController();
  const taken: string[] = [];
  const http = await listenHttp({ host: '127.0.0.1', port: 0 }, (r) => (taken.push(r.body), { status: 200 }), stop.signal, logger('test'), () => {});
  // a device half way through its request: headers sent, its body not yet
  const socket = connect(http.port, '127.0.0.1');
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('POST / HTTP/1.1\r\nHost: device\r\nContent-Length: 100\r\n\r\n{"lat"');
  // time for the listener to parse the headers: a request it had not begun would be an idle connection, which
  // close() cuts by itself; too short a pause only makes this test pass without the fix, never fail with it
  await new Promise((r) => setTimeout(r, 50));
  stop.abort();
  await http.closed;
  await ended;
  expect(taken).toEqual([]);
});
