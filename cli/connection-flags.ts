import { readFileSync } from 'node:fs';
import type { ClientOptions } from '../client/client.ts';
import type { Parsed } from './args.ts';

/** The token a workflow falls back on (`${GEOFLUX_TOKEN:-dev-token}`), so a dev zipper and its clients agree unasked. */
export const DEV_TOKEN = 'dev-token';

/** ClientOptions from the flags of `connectionFlags` (command-specs.ts). */
export const connectionOptions = (values: Parsed['values']): Omit<ClientOptions, 'name'> => ({
  zipper: String(values.zipper),
  token: (values.token as string | undefined) ?? (process.env.GEOFLUX_TOKEN || DEV_TOKEN),
  ca: values.ca ? readFileSync(String(values.ca), 'utf8') : undefined,
  certHash: values['cert-hash'] as string | undefined,
  insecure: Boolean(values.insecure),
  cert: values.cert ? readFileSync(String(values.cert), 'utf8') : undefined,
  key: values.key ? readFileSync(String(values.key), 'utf8') : undefined,
  connectTimeout: 30_000,
});
