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
 * restart and holds back meanwhile, since giving up would leave it nowhere to send what it holds. A server
 * that is not there yet is waited for (the promise resolves at the first connection, however long that
 * takes); one that answers and refuses (TLS, credentials) rejects at once, saying why.
 */
export async function connectNats(o: NatsConnectOptions): Promise<NatsConnection> {
  const opts = {
    servers: o.servers,
    name: o.name,
    user: o.user,
    pass: o.pass,
    token: o.token,
    ...(o.creds && { authenticator: credsAuthenticator(readFileSync(o.creds)) }),
    ...(o.tls && { tls: { caFile: o.tls.ca, certFile: o.tls.cert, keyFile: o.tls.key } }),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  };
  try {
    return await connect({ ...opts, waitOnFirstConnect: false });
  } catch (e) {
    if (o.waitOnFirstConnect === false || !unreachable(e as Error & { code?: string })) throw e;
    return connect({ ...opts, waitOnFirstConnect: true });
  }
}

/** no server answered (none there yet), as opposed to one that answered and refused */
const unreachable = (e: Error & { code?: string; cause?: unknown }) => /ECONNREFUSED|connection refused|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|timeout/i.test(`${e.code} ${e.message} ${(e.cause as Error | undefined)?.message}`);
