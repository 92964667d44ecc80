import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', '.scratch/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // transports bind real sockets; one file at a time per worker keeps ports and CPU predictable on 2 cores
    fileParallelism: true,
    pool: 'forks',
  },
});
