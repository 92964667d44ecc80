import { afterEach } from 'vitest';
import { setLogLevel } from '../log/logger.ts';
import { Zipper, type ZipperConfig } from '../zipper/zipper.ts';

/** Shared by the zipper's integration tests: a zipper on real loopback transports, and tidy teardown. */

setLogLevel(process.env.GEOFLUX_LOG === 'debug' ? 'debug' : 'silent');

export const TOKEN = 'test-token';

export type TransportCase = [name: string, listen: string[], urlOf: (z: Zipper) => string];

export const TRANSPORTS: TransportCase[] = [
  ['memory', [], (z) => z.memoryUrl],
  ['quic', ['quic://127.0.0.1:0'], (z) => z.listeners.find((l) => l.transport === 'quic')!.url],
  ['webtransport', ['webtransport://127.0.0.1:0/geoflux'], (z) => z.listeners.find((l) => l.transport === 'webtransport')!.url],
];
export const QUIC = TRANSPORTS[1];
export const WEBTRANSPORT = TRANSPORTS[2];

export const testConfig = (listen: string[], functions: ZipperConfig['functions'], tags = { gps: 16, speeding: 17, out: 18 }): ZipperConfig => ({
  name: `t-${Math.random().toString(36).slice(2, 8)}`,
  listen,
  token: TOKEN,
  tags,
  functions,
});

const pending: Array<() => Promise<unknown>> = [];
/** registers something to close after the current test, last in first out */
export function later<T extends { close(...a: any[]): Promise<unknown> }>(x: T): T {
  pending.push(() => x.close());
  return x;
}
afterEach(async () => {
  while (pending.length) await pending.pop()!().catch(() => {});
});

/** yields to the event loop now and then so a tight write loop lets frames out */
export const breathe = () => new Promise((r) => setImmediate(r));
