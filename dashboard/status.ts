import { sumSinkStats } from '../alerts/mqtt-sink.ts';
import type { ServedWorkflow } from '../workflows/serve-workflow.ts';
import type { Workflow } from '../workflows/schema.ts';

/**
 * What the dashboard's counters panel shows, as `GET /api/status` serves it. Kept small on purpose: it is
 * made from what the zipper, the sinks and the threads count today, and is to be re-wired to the metrics
 * (`/metrics`) when they land. Counts are totals since serve started; the page turns them into rates.
 */
export interface DashboardStatus {
  /** epoch ms the figures were read */
  at: number;
  /** fixes the zipper took from sources: records in on the tags that no function emits */
  fixesIn: number;
  /** events on the tags that the MQTT sinks publish as alerts */
  alerts: number;
  /** the MQTT sinks added up; null when the workflow has none */
  mqtt: { connected: boolean; published: number; buffered: number; dropped: number } | null;
  /** per function: instances joined, frames held or waiting for an instance, thread restarts */
  functions: { name: string; instances: number; backlog: number; restarts: number }[];
}

/** The tags sources write (observed, emitted by no function) and the tags alert sinks publish. */
export function countedTags(wf: Workflow): { fixes: string[]; alerts: string[] } {
  const emitted = new Set(wf.functions.flatMap((f) => f.emit));
  const fixes = new Set(wf.functions.flatMap((f) => f.observe).filter((t) => !emitted.has(t)));
  const alerts = new Set(wf.functions.filter((f) => f.sink && f.params?.topic !== false).flatMap((f) => f.observe));
  return { fixes: [...fixes], alerts: [...alerts] };
}

/** The status callback serveWorkflow gives the dashboard. */
export function workflowStatus(wf: Workflow, served: ServedWorkflow): () => DashboardStatus {
  const tags = countedTags(wf);
  return () => {
    const tagsIn = served.zipper.stats().tagsIn;
    const records = (names: string[]) => names.reduce((n, t) => n + (tagsIn[t]?.records ?? 0), 0);
    const restarts = (fn: string) => served.functionThreads.filter((t) => t.fn === fn).reduce((n, { thread: { restarts: r } }) => n + r.crash + r.hung + r.exit, 0);
    const mqtt = served.sinks.length ? sumSinkStats(served.sinks.map((s) => s.sink.stats())) : null;
    return {
      at: Date.now(),
      fixesIn: records(tags.fixes),
      alerts: records(tags.alerts),
      mqtt: mqtt && { connected: mqtt.connected, published: mqtt.published, buffered: mqtt.buffered, dropped: mqtt.dropped },
      functions: served.zipper.functionLoad().map((f) => ({ name: f.name, instances: f.instances, backlog: f.unacked + f.waiting, restarts: restarts(f.name) })),
    };
  };
}
