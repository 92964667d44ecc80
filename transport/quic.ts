import { dialQuicBytes, listenQuicBytes } from './quic-bytes.ts';
import { channelOptions, quicIdleTimeoutFor, quicKeepAliveFor } from './channel-options.ts';
import { streamChannel } from './stream-channel.ts';
import type { Transport } from './types.ts';

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** `quic://host:port`: one QUIC connection per client, one bidirectional stream on it, frames on the stream. */
export const quicTransport: Transport = {
  async listen(url, opts, onChannel) {
    const ch = channelOptions(opts);
    const server = await listenQuicBytes(
      hostOf(url),
      Number(url.port),
      { tls: opts.tls, log: opts.log, handshakeTimeout: opts.handshakeTimeout, clientCa: opts.clientCa, quicIdleTimeout: quicIdleTimeoutFor(opts), keepAlive: quicKeepAliveFor(opts) },
      (d) => onChannel(streamChannel(d, 'quic', { ...ch, onIdle: () => server.stats.idleTimeouts++ })),
    );
    return {
      url: `quic://${url.hostname}:${server.port}`,
      transport: 'quic',
      detail: `QUIC, TLS 1.3, ALPN geoflux${opts.clientCa ? ', client certificates required' : ''}`,
      stats: () => ({ ...server.stats }),
      close: () => server.close(),
    };
  },
  async dial(url, opts) {
    const d = await dialQuicBytes(hostOf(url), Number(url.port), { ...opts, quicIdleTimeout: quicIdleTimeoutFor(opts), keepAlive: quicKeepAliveFor(opts) });
    return streamChannel(d, 'quic', channelOptions(opts));
  },
};
