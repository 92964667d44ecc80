import { counter, gauge, histogram, type Family } from '../metrics/families.ts';
import { inSeconds } from '../metrics/histogram.ts';
import type { EdgePublisherStats } from './edge-publisher.ts';
import type { LeaseStats } from './partition-leases.ts';


type Row<S> = [kind: typeof counter, name: string, help: string, field: { [K in keyof S]: S[K] extends number ? K : never }[keyof S]];

/** one unlabelled series per row, read from a fresh `stats()` at each scrape */
const numbers = <S>(stats: () => S, rows: Row<S>[]): Family[] => rows.map(([kind, name, help, field]) => kind(name, help, () => [{ value: stats()[field] as number }]));

/** The edge publisher's counters as /metrics families, for the registry of `geoflux serve`. */
export function edgePublisherFamilies(stats: () => EdgePublisherStats): Family[] {
  return [
    ...numbers(stats, [
      [counter, 'geoflux_cluster_published_total', 'messages sent to JetStream, resends included', 'published'],
      [counter, 'geoflux_cluster_published_fixes_total', 'fixes handed to the edge publisher', 'fixes'],
      [counter, 'geoflux_cluster_pubacks_total', 'PubAcks received', 'pubacks'],
      [counter, 'geoflux_cluster_duplicates_total', 'PubAcks saying JetStream already had the message (a resend it dropped)', 'duplicates'],
      [counter, 'geoflux_cluster_retries_total', 'sends without a PubAck in time, sent again', 'retries'],
      [counter, 'geoflux_cluster_refused_frames_total', 'frames refused while the publisher was full (not acked: the source keeps them)', 'refused'],
      [gauge, 'geoflux_cluster_pending_messages', 'messages sent or queued and not yet acknowledged', 'pending'],
      [gauge, 'geoflux_cluster_frames_in_flight', 'frames whose fixes JetStream has not yet all acknowledged', 'framesInFlight'],
      [gauge, 'geoflux_cluster_bytes_in_flight', 'encoded bytes sent and not yet acknowledged', 'bytesInFlight'],
    ]),
    histogram('geoflux_cluster_puback_seconds', 'from a send to its PubAck', () => [{ h: inSeconds(stats().pubAckMs) }]),
  ];
}

/** A worker's leases as /metrics families. */
export function leaseFamilies(stats: () => LeaseStats): Family[] {
  return numbers(stats, [
    [gauge, 'geoflux_cluster_partitions_held', 'partitions this worker holds now', 'held'],
    [counter, 'geoflux_cluster_partitions_acquired_total', 'partitions claimed, free or handed over', 'acquired'],
    [counter, 'geoflux_cluster_partitions_released_total', 'partitions handed over to another worker', 'released'],
    [counter, 'geoflux_cluster_partitions_lost_total', 'leases that expired or were taken before renewal', 'lost'],
    [counter, 'geoflux_cluster_lease_renew_failures_total', 'renewals or registrations that failed for want of a connection', 'renewFailures'],
  ]);
}
