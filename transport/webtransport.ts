import { channelOptions } from './channel-options.ts';
import { dialWebTransportBytes, listenWebTransportBytes } from './webtransport-bytes.ts';
import { streamChannel } from './stream-channel.ts';
import type { Transport } from './types.ts';

const pathOf = (url: URL) => (url.pathname && url.pathname !== '/' ? url.pathname : '/geoflux');

/** `webtransport://host:port/path`, served as https://host:port/path: one session, one bidirectional stream. */
export const webTransport: Transport = {
  async listen(url, opts, onChannel) {
    const ch = channelOptions(opts);
    const server = await listenWebTransportBytes(
      url.hostname,
      Number(url.port),
      pathOf(url),
      { tls: opts.tls, log: opts.log, handshakeTimeout: opts.handshakeTimeout, clientCa: opts.clientCa },
      (d) => onChannel(streamChannel(d, 'webtransport', { ...ch, onIdle: () => server.stats.idleTimeouts++ })),
    );
    return {
      url: `webtransport://${url.hostname}:${server.port}${pathOf(url)}`,
      transport: 'webtransport',
      detail: `WebTransport over ${server.protocol}, at https://${url.hostname}:${server.port}${pathOf(url)}${opts.clientCa ? ', client certificates required' : ''}`,
      stats: () => ({ ...server.stats }),
      close: () => server.close(),
    };
  },
  async dial(url, opts) {
    const d = await dialWebTransportBytes(`https://${url.host}${pathOf(url)}`, opts);
    return streamChannel(d, 'webtransport', channelOptions(opts));
  },
};
