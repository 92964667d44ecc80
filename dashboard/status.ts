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
  /** events on the tags that the sinks publish as alerts */
  alerts: number;
  /** the sinks added up (MQTT, NATS); null when the workflow has none */
  sinks: { connected: boolean; published: number; buffered: number; dropped: number } | null;
  /** per function: instances joined, frames held or waiting for an instance, thread restarts */
  functions: { name: string; instances: number; backlog: number; restarts: number }[];
}
