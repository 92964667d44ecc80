import { afterEach } from 'vitest';
import { serveIngest } from './ingest-serve.ts';

/**
 * For a test file: `serve` starts a workflow as serveIngest does, `later` registers something else to
 * close (a broker, a gpsfake); after each test everything is stopped, last in first out.
 */
export function ingestTests(): { serve: typeof serveIngest; later(close: () => Promise<unknown>): void } {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  return {
    async serve(protocol, params, extraYaml) {
      const s = await serveIngest(protocol, params, extraYaml);
      closers.push(() => s.stop());
      return s;
    },
    later: (close) => void closers.push(close),
  };
}
