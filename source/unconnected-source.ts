import type { Source } from './connect-source.ts';

/**
 * What serve hands a source module that writes nothing to the zipper under its params (its `writes()` said
 * so: a simulator posing as phones posts to a device listener instead). No connection is opened: an idle
 * QUIC client in a worker thread crashed the whole process in the native QUIC library (`npm start -- --as
 * osmand`: 3 runs in 7, at start or at Ctrl-C; 0 in 8 without it). A write says the module broke its word.
 */
export function unconnectedSource(name: string): Source {
  const broken = (): never => {
    throw new Error(`source "${name}" said it writes nothing to the zipper under these params (its module's writes())`);
  };
  return {
    clientId: name,
    write: broken,
    sink: broken,
    flush: async () => true,
    stats: () => ({ connected: false, reconnects: 0, spooled: 0, dropped: 0, refused: 0 }),
    close: async () => ({ unacked: 0, dropped: 0, refused: 0, waited: 0 }),
  };
}
