// Preloaded into serve by `GEOFLUX_FOOTPRINT_THREADS=1 npm run bench -- footprint` (NODE_OPTIONS=--import, so
// every worker thread loads it too): each thread appends what its isolate holds to GEOFLUX_THREAD_MEMORY every
// 5 s, so the footprint's RSS can be read as heaps, young generations and WebAssembly memories per thread.
// Plain JavaScript: serve runs compiled code and must not need tsx for this.
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';
import { isMainThread, threadId, workerData } from 'node:worker_threads';

const out = process.env.GEOFLUX_THREAD_MEMORY;
// a kernel's memory is created by its host (the ABI imports it), so a subclass sees every one
const memories = [];
const Memory = WebAssembly.Memory;
WebAssembly.Memory = class extends Memory {
  constructor(descriptor) {
    super(descriptor);
    memories.push(new WeakRef(this));
  }
};

function kind() {
  if (isMainThread) return 'serve';
  if (workerData?.kind === 'source') return `source ${workerData.name}`;
  if (workerData?.kind === 'function') return `function ${workerData.name}`;
  if (Array.isArray(workerData?.instances)) return 'host';
  return 'other';
}

const MB = 1048576;
const label = `${kind()} #${threadId}`;
function report() {
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size / MB]));
  const m = process.memoryUsage();
  const wasm = memories.map((r) => r.deref()).filter(Boolean).map((w) => w.buffer.byteLength / MB);
  const line = { thread: label, heap: v8.getHeapStatistics().total_heap_size / MB, young: spaces.new_space ?? 0, old: spaces.old_space ?? 0, code: spaces.code_space ?? 0, external: m.external / MB, wasm };
  appendFileSync(out, `${JSON.stringify(line)}\n`);
}
if (out) setInterval(report, 5000).unref();
