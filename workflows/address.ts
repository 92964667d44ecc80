const DEFAULT_WEBTRANSPORT_PATH = '/geoflux';
const EXAMPLE = 'quic://127.0.0.1:9000';

/**
 * A `listen:` address in one spelling per endpoint: `quic://host:port` or `webtransport://host:port/path`
 * (path defaulting to /geoflux), so the zipper, banners and sources dialling "the first listen address" all
 * agree on it. Returns why not when it is not one.
 */
export function normaliseListen(addr: string): { address: string } | { reason: string } {
  let url: URL;
  try {
    url = new URL(addr);
  } catch {
    // URL only says "Invalid URL"; an out-of-range port is the one mistake worth naming
    const port = /:(\d+)(?:[/?#]|$)/.exec(addr)?.[1];
    if (port && Number(port) > 65535) return { reason: `port ${port} is out of range (0-65535)` };
    return { reason: `"${addr}" is not an address (expected e.g. ${EXAMPLE})` };
  }
  if (url.protocol !== 'quic:' && url.protocol !== 'webtransport:') {
    return { reason: `unsupported scheme "${url.protocol.slice(0, -1)}" (use quic:// or webtransport://)` };
  }
  if (!url.port) return { reason: `needs a port, e.g. ${url.protocol}//${url.hostname}:9000` };
  if (url.username || url.password || url.search || url.hash) return { reason: `"${addr}" has a user, ?query or #fragment, which a listen address cannot use` };
  const path = url.pathname === '/' ? '' : url.pathname;
  if (url.protocol === 'quic:') return path ? { reason: `a quic:// address has no path (remove "${path}")` } : { address: `quic://${url.host}` };
  return { address: `webtransport://${url.host}${path || DEFAULT_WEBTRANSPORT_PATH}` };
}
