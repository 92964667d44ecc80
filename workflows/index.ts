/**
 * geoflux/workflow: load and check a workflow.yaml, and run one from your own program.
 *
 *   const served = await serveWorkflow(await loadWorkflow('workflow.yaml'));
 *   …
 *   await served.stop();
 */
export { loadWorkflow, parseWorkflow } from './load.ts';
export { WorkflowError } from './errors.ts';
export { serveWorkflow, type ServedWorkflow, type ServeOptions } from '../serve/serve-workflow.ts';
export type { Workflow, WorkflowFunction, WorkflowSource, MqttConfig, Dispatch } from './schema.ts';
export { BUILTIN_FUNCTIONS } from '../sfn/builtins/index.ts';
export { BUILTIN_SOURCES } from '../source/builtin-sources.ts';
export type { Zipper } from '../zipper/zipper.ts';
