import { resolve } from 'node:path';

/**
 * A workflow function (YAML, under `functions:`) whose kernel of the user's own loops for ever on a fix over
 * 100 m/s (kernels/assembly/testing/spin.ts), observing `slow` and emitting `spun`: what hangs its host thread.
 */
export const SPINNER = `  - name: spinner
    observe: [slow]
    emit: spun
    host: local
    kernel: ${resolve('kernels/build/testing/spin.wasm')}
`;
