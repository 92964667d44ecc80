// Preloaded into a compiled serve by serve/thread-modules.test.ts (NODE_OPTIONS=--import, so every worker
// thread loads it too): each thread registers a resolve hook that appends `<thread> <url>` to
// GEOFLUX_LOADED_MODULES for every module it loads, so a test can say what each isolate holds.
// Plain JavaScript: serve runs compiled code and must not need tsx for this.
import { register } from 'node:module';
import { isMainThread, threadId, workerData } from 'node:worker_threads';

const thread = isMainThread ? 'serve' : Array.isArray(workerData?.instances) ? `host#${threadId}` : `other#${threadId}`;
if (process.env.GEOFLUX_LOADED_MODULES) register(new URL('./loaded-modules-hooks.mjs', import.meta.url), { data: { thread, out: process.env.GEOFLUX_LOADED_MODULES } });
