import { dialWebTransportBytes, listenWebTransportBytes } from './webtransport-bytes.ts';
import { streamChannel } from './stream-channel.ts';
import type { Transport } from './types.ts';

const pathOf = (url: URL) => (url.pathname && url.pathname !== '/' ? url.pathname : '/geoflux');

/** `webtransport://host:port/path`, served as https://host:port/path: one session, one bidirectional stream. */
export const webTransport: Transport = {
  async listen(url, opts, onChannel) {
    const server = await listenWebTransportBytes(url.hostname, Number(url.port), pathOf(url), { tls: opts.tls, log: opts.log }, (d) =>
      onChannel(streamChannel(d, 'webtransport', { maxFrameSize: opts.maxFrameSize })),
    );
    return {
      url: `webtransport://${url.hostname}:${server.port}${pathOf(url)}`,
      transport: 'webtransport',
      detail: `WebTransport over ${server.protocol}, at https://${url.hostname}:${server.port}${pathOf(url)}`,
      close: () => server.close(),
    };
  },
  async dial(url, opts) {
    const d = await dialWebTransportBytes(`https://${url.host}${pathOf(url)}`, opts);
    return streamChannel(d, 'webtransport', { maxFrameSize: opts.maxFrameSize });
  },
};
