/**
 * The kernel call this thread is in, kept where the thread that watches it can read it while this one is
 * stuck in that call: a stuck thread answers no message, and its watchdog must tell a call that never returns
 * from a neighbour's start-up loading a road network (runtime/module-thread.ts). One cell of shared memory
 * per thread: the number of the call under way, 0 between calls. Made only once a watcher asks for it (a
 * host thread), so that a thread nobody watches (a browser's, a thread of its own) shares nothing.
 */

let cell: Int32Array | undefined;
let calls = 0;

/** the shared memory to hand the watching thread (callUnderWay reads it there) */
export function runningCallCell(): SharedArrayBuffer {
  cell ??= new Int32Array(new SharedArrayBuffer(4));
  return cell.buffer as SharedArrayBuffer;
}

/** Runs `call` (a kernel's synchronous call: nothing else runs in this thread meanwhile) marked as under way. */
export function runningCall<T>(call: () => T): T {
  if (!cell) return call();
  calls = calls >= 0x7fffffff ? 1 : calls + 1;
  Atomics.store(cell, 0, calls);
  try {
    return call();
  } finally {
    Atomics.store(cell, 0, 0);
  }
}

/** what reads, in the watching thread, the number of the call under way in the thread that gave `buffer` (0: none) */
export function callUnderWay(buffer: SharedArrayBuffer): () => number {
  const c = new Int32Array(buffer);
  return () => Atomics.load(c, 0);
}
