import type { Registry } from 'prom-client';
import { registryOf } from '../metrics/registry-of.ts';
import { leaseFamilies } from '../cluster/cluster-metrics.ts';
import type { LeaseStats } from '../cluster/partition-leases.ts';
import { counter, gauge, type Family, type Sample } from '../metrics/families.ts';
import type { Sink } from '../sinks/sink.ts';
import { sinkFamilies } from '../sinks/sink-metrics.ts';
import { kernelFamilies, type KernelFigures } from '../sfn/kernel-metrics.ts';
import type { WorkerStats } from './run-worker.ts';

/** What a worker's /metrics reads at each scrape. */
export interface WorkerFigures {
  stats(): WorkerStats;
  leases(): LeaseStats;
  sinks(): { fn: string; sink: Sink }[];
  /** its cloud functions' kernels, as serve's are counted */
  kernels(): KernelFigures[];
}

/**
 * `geoflux worker`'s Prometheus families: its leases (cluster/cluster-metrics.ts), and per partition it holds
 * the lag behind the stream, the last checkpoint's age and size; takeovers, hand-overs, replayed messages
 * whose events went out before; its kernels and sinks as serve's are named.
 */
export function workerMetrics(f: WorkerFigures): Registry {
  const perPartition = (value: (p: WorkerStats['held'][number]) => number | undefined) => (): Sample[] =>
    f.stats().held.flatMap((p) => {
      const v = value(p);
      return v === undefined ? [] : [{ labels: { partition: String(p.partition) }, value: v }];
    });
  const one = (value: (s: WorkerStats) => number) => (): Sample[] => [{ value: value(f.stats()) }];
  const families: Family[] = [
    ...leaseFamilies(f.leases),
    gauge('geoflux_worker_partition_lag_messages', 'messages in the stream a held partition has not read yet (as of the last look, every 2 s)', perPartition((p) => p.lag)),
    gauge('geoflux_worker_checkpoint_age_seconds', 'since a held partition was last checkpointed', perPartition((p) => (Date.now() - p.checkpointedAt) / 1000)),
    gauge('geoflux_worker_checkpoint_bytes', 'the size of a held partition\'s last checkpoint', perPartition((p) => p.checkpointBytes)),
    counter('geoflux_worker_messages_total', 'messages read from the stream and handled', one((s) => s.messages)),
    counter('geoflux_worker_checkpoints_total', 'checkpoints put', one((s) => s.checkpoints)),
    counter('geoflux_worker_repeated_fixes_total', 'fixes dropped for not being newer than their device\'s last, by at most a minute: an edge\'s resend after a crash', one((s) => s.repeated)),
    counter('geoflux_worker_late_fixes_total', 'fixes dropped for being older still than their device\'s last: at most 2 in a row, then the device\'s next is taken (its clock was put right)', one((s) => s.late)),
    counter('geoflux_worker_unreadable_checkpoints_total', 'checkpoints that could not be restored: their partitions were replayed from the stream\'s start', one((s) => s.unreadableCheckpoints)),
    counter('geoflux_worker_muted_messages_total', 'messages replayed after a takeover whose events had been published already (not published again)', one((s) => s.muted)),
    ...sinkFamilies(f.sinks),
    ...kernelFamilies(f.kernels),
  ];
  return registryOf(families);
}
