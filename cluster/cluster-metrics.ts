import { counter, gauge, histogram, type Family } from '../metrics/families.ts';
import type { HistogramSnapshot } from '../metrics/histogram.ts';
import type { EdgePublisherStats } from './edge-publisher.ts';
import type { LeaseStats } from './partition-leases.ts';

/** ms buckets as Prometheus wants them, in seconds */
const inSeconds = (h: HistogramSnapshot): HistogramSnapshot => ({ ...h, bounds: h.bounds.map((b) => b / 1000), sum: h.sum / 1000 });

/** The edge publisher's counters as /metrics families, for the registry of `geoflux serve`. */
export function edgePublisherFamilies(stats: () => EdgePublisherStats): Family[] {
  return [
    counter('geoflux_cluster_published_total', 'messages sent to JetStream, resends included', () => [{ value: stats().published }]),
    counter('geoflux_cluster_published_fixes_total', 'fixes handed to the edge publisher', () => [{ value: stats().fixes }]),
    counter('geoflux_cluster_pubacks_total', 'PubAcks received', () => [{ value: stats().pubacks }]),
    counter('geoflux_cluster_duplicates_total', 'PubAcks saying JetStream already had the message (a resend it dropped)', () => [{ value: stats().duplicates }]),
    counter('geoflux_cluster_retries_total', 'sends without a PubAck in time, sent again', () => [{ value: stats().retries }]),
    counter('geoflux_cluster_refused_frames_total', 'frames refused while the publisher was full (not acked: the source keeps them)', () => [{ value: stats().refused }]),
    gauge('geoflux_cluster_pending_messages', 'messages sent or queued and not yet acknowledged', () => [{ value: stats().pending }]),
    gauge('geoflux_cluster_frames_in_flight', 'frames whose fixes JetStream has not yet all acknowledged', () => [{ value: stats().framesInFlight }]),
    gauge('geoflux_cluster_bytes_in_flight', 'encoded bytes sent and not yet acknowledged', () => [{ value: stats().bytesInFlight }]),
    histogram('geoflux_cluster_puback_seconds', 'from a send to its PubAck', () => [{ h: inSeconds(stats().pubAckMs) }]),
  ];
}

/** A worker's leases as /metrics families. */
export function leaseFamilies(stats: () => LeaseStats): Family[] {
  return [
    gauge('geoflux_cluster_partitions_held', 'partitions this worker holds now', () => [{ value: stats().held }]),
    counter('geoflux_cluster_partitions_acquired_total', 'partitions claimed, free or handed over', () => [{ value: stats().acquired }]),
    counter('geoflux_cluster_partitions_released_total', 'partitions handed over to another worker', () => [{ value: stats().released }]),
    counter('geoflux_cluster_partitions_lost_total', 'leases that expired or were taken before renewal', () => [{ value: stats().lost }]),
    counter('geoflux_cluster_lease_renew_failures_total', 'renewals or registrations that failed for want of a connection', () => [{ value: stats().renewFailures }]),
  ];
}
