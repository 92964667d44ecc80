import { collectDefaultMetrics, Registry } from 'prom-client';
import { buildInfo } from './build-info.ts';
import type { Family } from './families.ts';

/** A process's registry: Node's own figures (prefixed geoflux_), its build, and the families given, read at each scrape. */
export function registryOf(families: Family[]): Registry {
  const registry = new Registry();
  // prom-client's own names already say what they are about (process_cpu_seconds_total, nodejs_heap_size_…)
  const prefix = 'geoflux_';
  collectDefaultMetrics({ register: registry, prefix });
  // three of prom-client's process gauges end in _total, which Prometheus keeps for counters (promtool says so)
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(prefix + name);
  for (const f of [buildInfo(), ...families]) registry.registerMetric(f as never);
  return registry;
}
