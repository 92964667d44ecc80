import type { DashboardStatus } from '../dashboard/status.ts';
import { sumSinkStats } from '../sinks/sink.ts';
import type { Workflow } from '../workflows/schema.ts';
import { functionLoad } from './function-load.ts';
import type { ServedWorkflow } from './serve-workflow.ts';
import { functionNameOf } from './versioned-name.ts';

/**
 * The tags sources write (observed by a function that is no sink, emitted by none of the file's) and the tags
 * alert sinks publish. A tag only sinks observe is left to functions deployed at run time (the demo's
 * `speeding`), so it is no source's.
 */
export function countedTags(wf: Workflow): { fixes: string[]; alerts: string[] } {
  const emitted = new Set(wf.functions.flatMap((f) => f.emit));
  const fixes = new Set(wf.functions.filter((f) => !f.sink).flatMap((f) => f.observe).filter((t) => !emitted.has(t)));
  const alerts = new Set(wf.functions.filter((f) => f.sink && f.params?.topic !== false).flatMap((f) => f.observe));
  return { fixes: [...fixes], alerts: [...alerts] };
}

/** The status callback serveWorkflow gives the dashboard. */
export function workflowStatus(wf: Workflow, served: ServedWorkflow): () => DashboardStatus {
  const tags = countedTags(wf);
  return () => {
    const tagsIn = served.zipper.stats().tagsIn;
    const records = (names: string[]) => names.reduce((n, t) => n + (tagsIn[t]?.records ?? 0), 0);
    const restarts = (fn: string) => served.functionThreads.filter((t) => functionNameOf(t.fn) === fn).reduce((n, { thread: { restarts: r } }) => n + r.crash + r.hung + r.exit, 0);
    const sinks = served.sinks.length ? sumSinkStats(served.sinks.map((s) => s.sink.stats())) : null;
    return {
      at: Date.now(),
      fixesIn: records(tags.fixes),
      alerts: records(tags.alerts),
      sinks: sinks && { connected: sinks.connected, published: sinks.published, buffered: sinks.buffered, dropped: sinks.dropped },
      functions: functionLoad(served.zipper).map((f) => ({ name: f.name, instances: f.instances, backlog: f.unacked + f.waiting, restarts: restarts(f.name) })),
    };
  };
}
