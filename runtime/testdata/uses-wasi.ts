// used by runtime/own-worker.test.ts: what a kernel thread does first
import { WASI } from 'node:wasi';

new WASI({ version: 'preview1' });
