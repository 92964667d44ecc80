import { JetStreamApiError } from '@nats-io/jetstream';
import type { Bucket } from '@nats-io/kv';
import { logger, type Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { systemClock, type Clock } from '../transport/liveness.ts';
import { fairShare } from './fair-share.ts';
import { liveKeys } from './live-keys.ts';

export interface PartitionLeasesOptions {
  /** the leases bucket (stream-setup.ts), whose TTL is `ttlMs` */
  kv: Bucket;
  /** this worker's name, unique among the live ones */
  worker: string;
  partitions: number;
  /** the bucket's TTL: a lease not renewed for this long is gone */
  ttlMs: number;
  /** ms between renewals (default a quarter of the TTL) */
  renewMs?: number;
  clock?: Clock;
  log?: Logger;
  /** what the registration says besides that the worker lives (default: the time): the deployments it runs */
  registration?: () => string;
  /** the partition is this worker's: restore its checkpoint and start reading */
  acquired(p: number): Promise<void> | void;
  /** the partition goes to a worker that joined: stop reading and checkpoint; it is released once this resolves */
  releasing(p: number): Promise<void> | void;
  /** the lease is gone (not renewed in time, another worker holds it): stop at once, checkpoint nothing */
  lost(p: number): void;
}

export interface LeaseStats {
  held: number;
  acquired: number;
  released: number;
  lost: number;
  /** renewals that failed for want of a connection (the lease may still be alive) */
  renewFailures: number;
}

const TAKEN = new Set([10071, 10164]);

/**
 * Workers share a stream's partitions through leases in a JetStream KV bucket whose TTL makes a key vanish
 * unless rewritten. Each worker, every `renewMs`: registers itself (`workers.<name>`), renews each lease it
 * holds (`partitions.<p>`, updated at its revision: it fails if the key expired or another took it), works
 * out its fair share from the registrations, gives back what it holds beyond the share (releasing: the
 * owner checkpoints, then the key is deleted at its revision) and claims free partitions up to the share
 * (create: only if absent). A worker that dies stops renewing: after the TTL its registration and leases
 * are gone and the others' shares grow to cover them. One who joins is handed partitions by the others'
 * next renewal, without waiting for any TTL.
 */
export class PartitionLeases {
  private readonly held = new Map<number, { rev: number; renewedAt: number }>();
  private readonly clock: Clock;
  private readonly warn: RateLimitedLog;
  private readonly renewMs: number;
  private readonly counts = { acquired: 0, released: 0, lost: 0, renewFailures: 0 };
  private timer: unknown;
  private closed = false;
  private ticking: Promise<void> = Promise.resolve();

  constructor(private readonly o: PartitionLeasesOptions) {
    this.clock = o.clock ?? systemClock;
    this.warn = new RateLimitedLog(o.log ?? logger('partition-leases'), { clock: this.clock });
    this.renewMs = o.renewMs ?? o.ttlMs / 4;
  }

  /** Registers and takes a first share; renewals follow every `renewMs`. */
  async start(): Promise<void> {
    await this.tick();
  }

  /** the partitions held now, in order */
  partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  stats(): LeaseStats {
    return { held: this.held.size, ...this.counts };
  }

  /**
   * Stops renewing. With `release` (a shutdown) each partition is released as in a hand-over and the
   * registration removed, so the others take over at their next renewal; without it (a test of a crash)
   * everything is left to expire.
   */
  async close({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    await this.ticking;
    if (!release) return;
    for (const p of this.partitions()) await this.release(p);
    await this.o.kv.delete(this.workerKey()).catch(() => undefined);
  }

  /** One round: register, renew, give back, claim. Runs again `renewMs` after it ends. */
  tick(): Promise<void> {
    this.ticking = this.ticking
      .then(() => this.round())
      // an owner's callback that throws must not end the renewals of every other partition
      .catch((e: Error) => this.warn.warn('round', `leases: ${this.o.worker}'s round failed: ${e.message}`))
      .finally(() => {
        if (!this.closed) this.timer = this.clock.setTimeout(() => void this.tick(), this.renewMs);
      });
    return this.ticking;
  }

  private async round(): Promise<void> {
    if (this.closed) return;
    this.clock.clearTimeout(this.timer);
    try {
      await this.o.kv.put(this.workerKey(), new TextEncoder().encode(this.o.registration?.() ?? String(this.clock.now())));
    } catch (e) {
      this.counts.renewFailures++;
      this.warn.warn('register', `leases: ${this.o.worker} could not register (${(e as Error).message})`);
    }
    for (const p of this.partitions()) await this.renew(p);
    let workers: string[];
    let taken: Set<number>;
    try {
      workers = (await liveKeys(this.o.kv, 'workers.', this.o.ttlMs / 2, this.clock)).map((k) => k.slice('workers.'.length));
      taken = new Set((await liveKeys(this.o.kv, 'partitions.', this.o.ttlMs / 2, this.clock)).map((k) => Number(k.slice('partitions.'.length))));
    } catch (e) {
      this.warn.warn('list', `leases: ${this.o.worker} could not list workers and leases (${(e as Error).message})`);
      return;
    }
    const share = fairShare(this.o.partitions, workers, this.o.worker);
    for (const p of this.partitions().slice(share).reverse()) if (this.held.size > share) await this.release(p);
    for (let p = 0; p < this.o.partitions && this.held.size < share && !this.closed; p++) if (!taken.has(p) && !this.held.has(p)) await this.claim(p);
  }

  private async renew(p: number): Promise<void> {
    const lease = this.held.get(p)!;
    try {
      lease.rev = await this.o.kv.update(partitionKey(p), this.o.worker, lease.rev);
      lease.renewedAt = this.clock.now();
    } catch (e) {
      if (e instanceof JetStreamApiError && TAKEN.has(e.code)) return this.lose(p, 'expired or taken over');
      this.counts.renewFailures++;
      this.warn.warn('renew', `leases: ${this.o.worker} could not renew partition ${p} (${(e as Error).message})`);
      // past the TTL another worker may hold it already: stop before two process it
      if (this.clock.now() - lease.renewedAt >= this.o.ttlMs) this.lose(p, `not renewed for ${this.o.ttlMs} ms`);
    }
  }

  private async claim(p: number): Promise<void> {
    let rev: number;
    try {
      rev = await this.o.kv.create(partitionKey(p), this.o.worker);
    } catch (e) {
      if (!(e instanceof JetStreamApiError && TAKEN.has(e.code))) this.warn.warn('claim', `leases: ${this.o.worker} could not claim partition ${p} (${(e as Error).message})`);
      return;
    }
    this.held.set(p, { rev, renewedAt: this.clock.now() });
    this.counts.acquired++;
    await this.o.acquired(p);
  }

  private async release(p: number): Promise<void> {
    await this.o.releasing(p);
    const lease = this.held.get(p);
    if (!lease) return;
    this.held.delete(p);
    this.counts.released++;
    await this.o.kv.delete(partitionKey(p), { previousSeq: lease.rev }).catch((e: Error) => this.warn.warn('release', `leases: ${this.o.worker} released partition ${p}, but its key stays until the TTL (${e.message})`));
  }

  private lose(p: number, why: string): void {
    this.held.delete(p);
    this.counts.lost++;
    this.warn.warn('lost', `leases: ${this.o.worker} lost partition ${p} (${why})`);
    this.o.lost(p);
  }

  private workerKey(): string {
    return `workers.${this.o.worker}`;
  }
}

const partitionKey = (p: number) => `partitions.${p}`;
