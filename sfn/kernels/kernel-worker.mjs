// Worker entry: plain JavaScript, because a worker thread starts without the main thread's TypeScript
// loader; it registers tsx, then loads the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./kernel-worker.ts');
