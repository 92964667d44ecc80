import { readFileSync } from 'node:fs';
import type { ClientOptions } from '../client/client.ts';
import type { FlagSpec, Parsed } from './args.ts';

/** How a command reaches a zipper: the flags `geoflux run`, `sim` and `replay` share. */
export const connectionFlags = (dflt?: string): Record<string, FlagSpec> => ({
  zipper: { type: 'string', short: 'z', value: 'url', help: 'the zipper to connect to (quic://, webtransport://)', ...(dflt ? { default: dflt } : {}) },
  token: { type: 'string', value: 'token', help: 'auth token (default: $GEOFLUX_TOKEN)' },
  ca: { type: 'string', value: 'file', help: "PEM file of the CA that signed the zipper's certificate" },
  'cert-hash': { type: 'string', value: 'sha256', help: "pin the zipper's certificate by the SHA-256 `geoflux serve` prints" },
  insecure: { type: 'boolean', help: 'accept any certificate (a dev zipper with a self-signed one)' },
});

export const connectionOptions = (values: Parsed['values']): Omit<ClientOptions, 'name'> => ({
  zipper: String(values.zipper),
  token: (values.token as string | undefined) ?? process.env.GEOFLUX_TOKEN,
  ca: values.ca ? readFileSync(String(values.ca), 'utf8') : undefined,
  certHash: values['cert-hash'] as string | undefined,
  insecure: Boolean(values.insecure),
  connectTimeout: 30_000,
});
