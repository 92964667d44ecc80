import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { Histogram, MS_BUCKETS } from '../metrics/histogram.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { edgePublisherFamilies, leaseFamilies } from './cluster-metrics.ts';

it("exports the publisher's and the leases' counters, and the PubAck latency in seconds", async () => {
  const h = new Histogram(MS_BUCKETS);
  h.observe(0.8);
  h.observe(40);
  const registry = new Registry();
  const families = [
    ...edgePublisherFamilies(() => ({ published: 12, fixes: 700, pubacks: 11, duplicates: 2, retries: 1, pending: 1, batching: 5, framesInFlight: 3, bytesInFlight: 900, refused: 4, pubAckMs: h.snapshot() })),
    ...leaseFamilies(() => ({ held: 4, acquired: 8, released: 4, lost: 1, renewFailures: 2 })),
  ];
  for (const f of families) registry.registerMetric(f as never);
  const s = parseExposition(await registry.metrics());
  expect(total(s, 'geoflux_cluster_pubacks_total')).toBe(11);
  expect(total(s, 'geoflux_cluster_duplicates_total')).toBe(2);
  expect(total(s, 'geoflux_cluster_refused_frames_total')).toBe(4);
  expect(total(s, 'geoflux_cluster_frames_in_flight')).toBe(3);
  expect(total(s, 'geoflux_cluster_partitions_held')).toBe(4);
  expect(total(s, 'geoflux_cluster_partitions_lost_total')).toBe(1);
  expect(total(s, 'geoflux_cluster_puback_seconds_bucket', { le: '0.001' })).toBe(1);
  expect(total(s, 'geoflux_cluster_puback_seconds_bucket', { le: '0.05' })).toBe(2);
  expect(total(s, 'geoflux_cluster_puback_seconds_sum')).toBeCloseTo(0.0408);
});
