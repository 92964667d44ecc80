import { randomUUID } from 'node:crypto';
import { quoted } from '../codecs/control-characters.ts';
import { DEFAULT_MAX_FRAME_SIZE } from '../codecs/frame.ts';
import type { ClientKind, DataFrame, Frame, HandshakeAckFrame } from '../codecs/frame-types.ts';
import { PROTOCOL_VERSION } from '../codecs/frame-types.ts';
import { thousands } from '../log/thousands.ts';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { parseAddress, transportFor, type FrameChannel } from '../transport/index.ts';
import { checkClientTrust, TrustError } from '../transport/trust.ts';
import { backoffDelay } from './backoff.ts';
import { Spool, type SpooledFrame } from './spool.ts';

/** Options shared by sources and stream functions. */
export interface ClientOptions {
  name: string;
  /** e.g. quic://127.0.0.1:9000, webtransport://127.0.0.1:9443/geoflux, memory://demo */
  zipper: string;
  token?: string;
  /** PEM of the CA that signed the zipper's certificate */
  ca?: string;
  /** SHA-256 of the zipper's certificate, as `geoflux serve` prints it */
  certHash?: string;
  /** accept any certificate: only for a dev zipper with a self-signed certificate */
  insecure?: boolean;
  /** PEM of this client's certificate (then any intermediates), for a zipper that requires one (its clientCa) */
  cert?: string;
  /** PEM private key of `cert` */
  key?: string;
  /** ms without sending after which a heartbeat goes out (default 500) */
  heartbeat?: number;
  /** ms without hearing from the zipper after which it counts as lost and is redialled (default 1800; 0: never) */
  idleTimeout?: number;
  /** records kept for resend while unacknowledged or disconnected (default 100,000) */
  spool?: number;
  /** how long the first connection may take, retries included (ms, default 10,000) */
  connectTimeout?: number;
  /** upper bound of the reconnect delay (ms, default 10,000) */
  maxBackoff?: number;
  /** ends the wait for the first connection (Ctrl-C): `connect` rejects with an InterruptedError at once */
  signal?: AbortSignal;
  /**
   * false: a connection that ends is the end of the client, with no redial and no resend (`ended` settles):
   * for requests that must not be replayed into whichever zipper answers next (the control channel)
   */
  reconnect?: boolean;
  log?: Logger;
}

export class RejectedError extends Error {
  override readonly name = 'RejectedError';
}

/** The first connection's wait ended by its caller's signal (Ctrl-C), not by a failure. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
}

export { TrustError };

/**
 * Throws for client options that no dial mends: a zipper address that is no URL of a transport we have, or
 * trust options that cannot be (transport/trust.ts). `connect` checks them before its first dial, and a
 * command that has long work to do before it connects (replay's trace, sim's network) before that work.
 */
export function checkClientOptions(opts: Pick<ClientOptions, 'zipper' | 'ca' | 'certHash' | 'insecure'>): void {
  parseAddress(opts.zipper);
  checkClientTrust(opts);
}

/** Failures that another try cannot mend: the zipper said no, or its certificate is not one we trust. */
const final = (e: unknown) => e instanceof RejectedError || e instanceof TrustError;

/**
 * One client's link to the zipper: dial, handshake, reconnect with backoff, and the spool of written frames
 * that the zipper has not yet acknowledged. Sources and stream functions are both built on it.
 */
export class ZipperClient {
  readonly clientId = randomUUID();
  readonly log: Logger;
  /** warnings that can repeat with every redial, frame or record (a flapping zipper, a full spool, a bad frame) */
  readonly warnings: RateLimitedLog;
  readonly spool: Spool;
  tags: Record<string, number> = {};
  /** reconnects after the first connection */
  reconnects = 0;
  /** the largest frame the zipper takes (it says so in its handshake-ack) */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private ch: FrameChannel | undefined;
  private seq = 0;
  private closing = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private upWaiters: Array<() => void> = [];
  /** the trust failure last logged, so that a zipper that keeps presenting the wrong certificate is named once */
  private distrusted: string | undefined;
  private ackWaiters: Array<() => void> = [];
  /** where the last connection ended: the last frame written by then, and the records spooled */
  private lost = { seq: 0, records: 0 };
  private endWith: (err: Error | undefined) => void = () => {};
  /** with `reconnect: false`, settles with the channel's error, if any, when the connection ends other than by `close` */
  readonly ended = new Promise<Error | undefined>((resolve) => (this.endWith = resolve));

  constructor(
    readonly kind: ClientKind,
    readonly opts: ClientOptions,
    readonly observe: string[],
    /** Data frames the zipper sends this client (functions only) */
    private readonly onData: (f: DataFrame, ch: FrameChannel) => void = () => {},
  ) {
    this.log = opts.log ?? logger(`${kind} ${opts.name}`);
    this.warnings = new RateLimitedLog(this.log);
    this.spool = new Spool(opts.spool ?? 100_000);
  }

  get connected(): boolean {
    return this.ch !== undefined;
  }

  /** the channel while connected */
  get channel(): FrameChannel | undefined {
    return this.ch;
  }

  /** First connection: retried until `connectTimeout`; a rejection or a certificate we do not trust is final, and so is `signal`. */
  async connect(): Promise<void> {
    checkClientOptions(this.opts);
    const started = Date.now();
    const deadline = started + (this.opts.connectTimeout ?? 10_000);
    const signal = this.opts.signal;
    const interrupted = () => new InterruptedError(`interrupted while connecting to ${this.opts.zipper} (${((Date.now() - started) / 1000).toFixed(1)} s, not connected)`);
    const untilAborted = signal && new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(interrupted()), { once: true }));
    untilAborted?.catch(() => {});
    const orAbort = <T>(p: Promise<T>) => (untilAborted ? Promise.race([p, untilAborted]) : p);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw interrupted();
      const dial = this.dialOnce(signal);
      try {
        await orAbort(dial);
        return;
      } catch (e) {
        if (e instanceof InterruptedError) {
          // a dial the abort overtook may still finish: its connection is not wanted
          dial.then(() => this.close(), () => {});
          throw e;
        }
        if (final(e)) throw e;
        if (Date.now() >= deadline) throw this.gaveUp(e, started, attempt + 1);
        await orAbort(new Promise((r) => setTimeout(r, Math.min(backoffDelay(attempt, 100, 2000), deadline - Date.now()))));
      }
    }
  }

  /** the last dial's error, said for the whole wait: each dial's own timeout is not how long the caller waited */
  private gaveUp(e: unknown, started: number, dials: number): unknown {
    if (!(e instanceof Error)) return e;
    const wait = `${dials} dials in ${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (e.message.startsWith('could not reach ')) e.message = `could not reach ${this.opts.zipper}: no answer to ${wait} (is geoflux serve running there?)`;
    else if (e.message.startsWith('could not connect')) e.message += ` (${wait}: is geoflux serve running there?)`;
    return e;
  }

  private async dialOnce(signal?: AbortSignal): Promise<void> {
    const url = parseAddress(this.opts.zipper);
    const transport = await transportFor(url);
    const { ca, certHash, insecure, cert, key, heartbeat, idleTimeout } = this.opts;
    const ch = await transport.dial(url, { ca, certHash, insecure, cert, key, heartbeat, idleTimeout, signal });
    await new Promise<void>((resolve, reject) => {
      let up = false;
      ch.start({
        frame: (f) => {
          if (!up) {
            if (f.type === 'handshake-ack') {
              up = true;
              this.up(ch, f);
              return resolve();
            }
            const why = f.type === 'rejected' ? f.reason : `expected a handshake-ack, got ${f.type}`;
            reject(new RejectedError(`zipper ${this.opts.zipper} rejected ${this.kind} ${quoted(this.opts.name)}: ${why}`));
            return ch.abort();
          }
          this.onFrame(ch, f);
        },
        closed: (err) => {
          // a zipper that refuses our client certificate may say so only once the connection is up
          if (!up && err instanceof TrustError) return reject(err);
          if (!up) return reject(new Error(`connection to ${this.opts.zipper} closed during the handshake${err ? `: ${err.message}` : ''}`));
          this.down(ch, err);
        },
      });
      ch.send({
        type: 'handshake',
        name: this.opts.name,
        kind: this.kind,
        clientId: this.clientId,
        token: this.opts.token ?? '',
        observe: this.observe,
        version: PROTOCOL_VERSION,
      });
    });
  }

  private up(ch: FrameChannel, ack: HandshakeAckFrame): void {
    this.ch = ch;
    this.tags = ack.tags;
    this.attempt = 0;
    this.distrusted = undefined;
    if (ack.maxFrame > 0) this.limitFrames(ack.maxFrame);
    const lost = this.spool.reconnected(ack.lastSeq);
    if (lost) this.log.error(`${lost} records sent before the connection ended, and no longer kept for a resend, never reached the zipper: dropped`);
    const resend = this.spool.after(ack.lastSeq);
    if (resend.length) this.log.info(this.resending(resend));
    for (const f of resend) ch.send(f.frame);
    for (const w of this.upWaiters.splice(0)) w();
  }

  private onFrame(ch: FrameChannel, f: Frame): void {
    switch (f.type) {
      case 'ack':
        this.spool.ack(f.seq);
        if (this.spool.frames === 0) for (const w of this.ackWaiters.splice(0)) w();
        return;
      case 'data':
        return this.onData(f, ch);
      case 'ping':
        return ch.send({ type: 'pong', id: f.id });
      case 'goaway': {
        // a zipper that refused a frame as too large says its limit: what is spooled above it would be
        // refused at every resend, and would hold back everything behind it
        const limit = /exceeds the (\d+)-byte limit/.exec(f.reason);
        if (limit) this.limitFrames(Number(limit[1]));
        this.log.info(`zipper says goodbye: ${f.reason}`);
        ch.abort();
        return;
      }
      case 'rejected':
        this.log.error(`zipper rejected us: ${f.reason}`);
        this.closing = true;
        ch.abort();
        return;
      default:
        return;
    }
  }

  private down(ch: FrameChannel, err?: Error): void {
    if (this.ch !== ch) return;
    this.ch = undefined;
    if (this.closing) return;
    if (this.opts.reconnect === false) {
      this.closing = true;
      return this.endWith(err);
    }
    const delay = backoffDelay(this.attempt++, 100, this.opts.maxBackoff ?? 10_000);
    this.lost = { seq: this.seq, records: this.spool.records };
    this.warnings.warn('lost', `lost the zipper${err ? ` (${err.message})` : ''}; reconnecting in ${delay} ms, ${recordCount(this.lost.records)} spooled`);
    this.reconnectTimer = setTimeout(() => this.reconnect(), delay);
  }

  /**
   * The resend in records, the unit the loss was said in, split as the loss left them and as written since:
   * "0 records spooled" at the loss and then a resend of what was written while away must not read as a
   * contradiction (and a frame holds any number of records, so frames could not be compared with it).
   */
  private resending(resend: SpooledFrame[]): string {
    let before = 0;
    let since = 0;
    for (const f of resend) {
      if (f.frame.seq <= this.lost.seq) before += f.records;
      else since += f.records;
    }
    const frames = `${resend.length} frame${resend.length === 1 ? '' : 's'}`;
    return `sending ${recordCount(before + since)} spooled (${frames}) the zipper does not have: ${thousands(before)} of the ${recordCount(this.lost.records)} spooled when the connection ended, ${thousands(since)} written since`;
  }

  private reconnect(): void {
    if (this.closing) return;
    this.dialOnce().then(
      () => {
        this.reconnects++;
        this.log.info(`reconnected to ${this.opts.zipper}`);
      },
      (e: Error) => {
        if (e instanceof RejectedError) {
          this.log.error(e.message);
          return;
        }
        const delay = backoffDelay(this.attempt++, 100, this.opts.maxBackoff ?? 10_000);
        // the zipper may come back with its certificate put right, so keep trying; but say it, once
        if (e instanceof TrustError && e.message !== this.distrusted) {
          this.distrusted = e.message;
          this.log.error(`${e.message}; retrying, at most every ${this.opts.maxBackoff ?? 10_000} ms`);
        } else this.log.debug(`reconnect failed (${e.message}); next try in ${delay} ms`);
        this.reconnectTimer = setTimeout(() => this.reconnect(), delay);
      },
    );
  }

  tagNumber(tag: string | number): number {
    if (typeof tag === 'number') return tag;
    const n = this.tags[tag];
    if (n === undefined) throw new Error(`unknown tag "${tag}" (the zipper knows: ${Object.keys(this.tags).join(', ')})`);
    return n;
  }

  /** Takes the zipper's frame limit; spooled frames over it are given up, counted, and said. */
  private limitFrames(max: number): void {
    this.maxFrameSize = max;
    const refused = this.spool.remove((f) => frameBytes(f) > max);
    if (refused.frames === 0) return;
    this.log.error(`${refused.frames} spooled frames (${refused.records} records) are larger than the zipper's ${max}-byte frame limit: given up, not resent`);
    if (this.spool.frames === 0) for (const w of this.ackWaiters.splice(0)) w();
  }

  /**
   * Spools a Data frame and sends it when connected. Returns false when the caller should slow down. A frame
   * larger than the zipper takes is refused here (RecordWriter splits records to fit; this is for raw frames).
   */
  writeFrame(tag: number, meta: Uint8Array, payload: Uint8Array, records: number): boolean {
    const frame: DataFrame = { type: 'data', tag, seq: this.seq + 1, from: '', meta, payload };
    const bytes = frameBytes(frame);
    if (bytes > this.maxFrameSize) throw new RangeError(`a frame of ${bytes} bytes is larger than the zipper takes (${this.maxFrameSize} bytes): split its records`);
    this.seq++;
    const { dropped, unkept } = this.spool.push({ frame, records }, this.ch !== undefined);
    if (dropped) this.warnings.warn('spool', `spool full (${this.spool.capacity} records): dropped the ${dropped} oldest records, ${this.spool.dropped} in all`);
    if (unkept) this.warnings.warn('unkept', `spool full (${this.spool.capacity} records): ${unkept} records already sent are no longer kept for a resend (they count as dropped only if this connection ends before the zipper has them)`);
    this.ch?.send(frame);
    return this.ch !== undefined && this.ch.buffered < 256;
  }

  /** the next frame sequence number, for metadata that names it */
  get nextSeq(): number {
    return this.seq + 1;
  }

  /** Resolves when everything written so far is acknowledged by the zipper, or after `timeout` ms. */
  flushed(timeout = 10_000): Promise<boolean> {
    if (this.spool.frames === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeout);
      this.ackWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** resolves when connected */
  whenUp(): Promise<void> {
    return this.ch ? Promise.resolve() : new Promise((r) => this.upWaiters.push(r));
  }

  /** `goodbye`: say goaway first (the zipper then hands what this held on whole and unblamed) */
  async close(goodbye = true): Promise<void> {
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    this.warnings.flush();
    const ch = this.ch;
    this.ch = undefined;
    if (ch) {
      if (goodbye) ch.send({ type: 'goaway', reason: 'client closing' });
      await ch.close();
    }
  }
}

/** a Data frame's size on the wire, at most, as the zipper forwards it (headers, tag, seq, the writer id it stamps on) */
const frameBytes = (f: DataFrame): number => f.meta.length + f.payload.length + 128;

const recordCount = (n: number) => `${thousands(n)} record${n === 1 ? '' : 's'}`;
