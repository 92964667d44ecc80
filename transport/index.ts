import { once } from '../runtime/once.ts';
import { memoryTransport } from './memory.ts';
import type { Transport } from './types.ts';

/**
 * Transports by URL scheme. The network ones load on first use, so a process that only uses memory:// (or
 * only QUIC) never loads the other native addons.
 */
const loaders: Record<string, () => Promise<Transport>> = {
  'quic:': once(async () => (await import('./quic.ts')).quicTransport),
  'webtransport:': once(async () => (await import('./webtransport.ts')).webTransport),
  'memory:': async () => memoryTransport,
  'port:': once(async () => (await import('./port.ts')).portTransport),
};

export const SCHEMES = Object.keys(loaders).map((s) => s.slice(0, -1));

export function parseAddress(address: string): URL {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new Error(`"${address}" is not a URL (expected e.g. quic://127.0.0.1:9000)`);
  }
  if (!loaders[url.protocol]) throw new Error(`unsupported scheme "${url.protocol}" in ${address} (use ${SCHEMES.map((s) => s + '://').join(', ')})`);
  return url;
}

export async function transportFor(url: URL): Promise<Transport> {
  const load = loaders[url.protocol];
  if (!load) throw new Error(`unsupported scheme "${url.protocol}"`);
  return load();
}

export type { FrameChannel, Listener, Transport, TransportName } from './types.ts';
