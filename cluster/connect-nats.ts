import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';

/** How to reach a NATS server, in the words NATS users know from `nats` CLI contexts. */
export interface NatsConnectOptions {
  /** nats://host:port, one or several servers of one cluster: the client tries them in turn */
  servers: string[];
  user?: string;
  pass?: string;
  token?: string;
  /** a .creds file (JWT and NKey seed) */
  creds?: string;
  /** PEM files */
  tls?: { ca?: string; cert?: string; key?: string };
  /** shown in the server's connection list */
  name?: string;
  /** keep trying until the first connection (default true); false: fail at once when no server answers */
  waitOnFirstConnect?: boolean;
}

/**
 * Dials and keeps redialling for ever (NATS' own reconnect, jittered): a geoflux process outlives a server's
 * restart and holds back meanwhile, since giving up would leave it nowhere to send what it holds. The
 * promise resolves at the first connection, however long that takes.
 */
export function connectNats(o: NatsConnectOptions): Promise<NatsConnection> {
  return connect({
    servers: o.servers,
    name: o.name,
    user: o.user,
    pass: o.pass,
    token: o.token,
    ...(o.creds && { authenticator: credsAuthenticator(readFileSync(o.creds)) }),
    ...(o.tls && { tls: { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key } }),
    waitOnFirstConnect: o.waitOnFirstConnect ?? true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
}
