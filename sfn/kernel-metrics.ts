import { counter, gauge, histogram, type Family, type Sample } from '../metrics/families.ts';
import { inSeconds } from '../metrics/histogram.ts';
import type { KernelRunSnapshot } from './kernel-batches.ts';

/** A function's kernel figures: what its kernels counted (summed over its instances, none for a function without one), and the kernel's own counters now. */
export interface KernelFigures {
  fn: string;
  kernel?: Partial<KernelRunSnapshot>;
  counters: Record<string, number>;
}

/**
 * The kernels' /metrics families, labelled by function: one set for serve (its functions' instances, and
 * those it ran before) and a worker (its cloud functions), so a kernel's drops read the same wherever it runs.
 */
export function kernelFamilies(figures: () => KernelFigures[]): Family[] {
  // a builtin or a sink runs no kernel: a kernel family's series of 0 for it would read as a kernel that never trapped
  const each = (f: (k: Partial<KernelRunSnapshot>) => number | undefined) => (): Sample[] =>
    figures().flatMap(({ fn, kernel }) => (kernel ? [{ labels: { function: fn }, value: f(kernel) ?? 0 }] : []));
  return [
    gauge('geoflux_kernel_counts', 'a kernel’s own counters (its schema’s, counter(i)), summed over the function’s running instances and those it ran before (a replaced version, a park, a scale down); falls when one starts over (README, Reliability)', () =>
      figures().flatMap(({ fn, counters }) => Object.entries(counters).map(([name, value]) => ({ labels: { function: fn, counter: name }, value }))),
    ),
    counter('geoflux_kernel_bad_rows_total', 'fixes not fit for a kernel (bad device id, time, position or motion), dropped before it, by reason', () =>
      figures().flatMap(({ fn, kernel }) => Object.entries(kernel?.badRows ?? {}).map(([reason, n]) => ({ labels: { function: fn, reason }, value: n ?? 0 }))),
    ),
    counter('geoflux_kernel_traps_total', 'kernel calls that trapped (the instance is replaced and the batch split)', each((k) => k.traps)),
    counter('geoflux_kernel_trapped_rows_total', 'fixes that trapped a kernel on their own, dropped', each((k) => k.trappedRows)),
    counter('geoflux_kernel_failed_rows_total', 'fixes in batches a kernel refused (an error status, a time limit), dropped', each((k) => k.failedRows)),
    histogram('geoflux_kernel_call_seconds', 'time of one kernel call on a batch', () => figures().flatMap(({ fn, kernel }) => (kernel?.callMs ? [{ labels: { function: fn }, h: inSeconds(kernel.callMs) }] : []))),
  ];
}
