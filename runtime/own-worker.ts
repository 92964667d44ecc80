import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread running one of geoflux's own modules, `name` beside the caller (`callerUrl` is its
 * import.meta.url). In the package that is compiled JavaScript, started as it is. In a source checkout (the
 * caller is a .ts file: tests, benchmarks) it is the .ts file, which a new thread can only load after
 * registering tsx, so a two-line bootstrap does that first; the package itself never needs tsx for its own code.
 */
export function ownWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const ext = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`${name}${ext}`, callerUrl);
  if (ext === '.js') return new Worker(entry, options);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
