import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../log/logger.ts';

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
  /** ends the wait for a server that is not there yet (Ctrl-C): the promise rejects with its reason */
  signal?: AbortSignal;
  /** where the wait is said: at once, then every WAITING_SAY_MS while it lasts */
  log?: Logger;
}

/** ms between two dials while no server answers */
const RETRY_MS = 500;
/** ms between two lines saying the wait goes on */
export const WAITING_SAY_MS = 30_000;

/**
 * Dials and keeps redialling for ever (NATS' own reconnect, jittered): a geoflux process outlives a server's
 * restart and holds back meanwhile, since giving up would leave it nowhere to send what it holds. A server
 * that is not there yet is waited for, and the wait is said (a process that sat silent for 25 s looked hung
 * to a new user) and ends at `signal`; one that answers and refuses (TLS, credentials) rejects at once,
 * saying why.
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
    // a port that answers but is not NATS (its HTTP monitor, say) holds a dial this long
    timeout: 5_000,
  };
  const since = Date.now();
  let said = 0;
  for (;;) {
    const attempt = connect({ ...opts, waitOnFirstConnect: false });
    try {
      const nc = await (o.signal ? Promise.race([attempt, whenAborted(o.signal)]) : attempt);
      if (said) o.log?.info(`NATS at ${nc.getServer()} reached after ${((Date.now() - since) / 1000).toFixed(1)} s`);
      if (o.log) void sayOutages(nc, o.log);
      return nc;
    } catch (e) {
      if (o.signal?.aborted) {
        attempt.then((nc) => nc.close(), () => {});
        throw e;
      }
      if (!unreachable(e as Error)) throw new Error(`NATS at ${o.servers.join(', ')} refused the connection: ${(e as Error).message} (the cluster: section's user and pass, token, creds or tls)`, { cause: e });
      if (o.waitOnFirstConnect === false) throw e;
      if (Date.now() - said >= WAITING_SAY_MS) {
        o.log?.warn(`NATS at ${o.servers.join(', ')} is not reachable (${(e as Error).message})${said ? ` for ${Math.round((Date.now() - since) / 1000)} s` : ''}; waiting for it`);
        said = Date.now();
      }
      await sleep(RETRY_MS, undefined, { signal: o.signal });
    }
  }
}

const whenAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** an outage named as one: lost, and back after how long (the client redials by itself meanwhile) */
async function sayOutages(nc: NatsConnection, log: Logger): Promise<void> {
  let lostAt = 0;
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') {
      lostAt = Date.now();
      log.warn(`lost NATS at ${s.server}; holding back until it is back`);
    } else if (s.type === 'reconnect' && lostAt) {
      log.info(`NATS at ${s.server} is back after ${((Date.now() - lostAt) / 1000).toFixed(1)} s`);
      lostAt = 0;
    }
  }
}

/** no server answered (none there yet), as opposed to one that answered and refused */
export const unreachable = (e: Error & { code?: string; cause?: unknown }): boolean => /ECONNREFUSED|connection refused|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|timeout/i.test(`${e.code} ${e.message} ${(e.cause as Error | undefined)?.message}`);
