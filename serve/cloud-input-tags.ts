import type { Workflow } from '../workflows/schema.ts';

/**
 * The tags the edge hands to the cluster: those a cloud function observes that no cloud function emits
 * (a cloud function's outputs stay on the worker that made them).
 * Apart from the bridge, so that serve's zipper, which routes them, does not load the NATS client for it.
 */
export function cloudInputTags(wf: Workflow): string[] {
  const cloud = wf.functions.filter((f) => f.where === 'cloud');
  const inCloud = new Set(cloud.flatMap((f) => f.emit));
  return [...new Set(cloud.flatMap((f) => f.observe))].filter((t) => !inCloud.has(t));
}
