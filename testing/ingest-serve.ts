import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { map } from 'rxjs';
import type { GpsRecord } from '../codecs/gps-record.ts';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { serveWorkflow, type ServedWorkflow } from '../serve/serve-workflow.ts';
import { connectStreamFunction, type StreamFunction } from '../sfn/connect-stream-function.ts';
import { loadWorkflow } from '../workflows/load.ts';
import { waitFor } from './wait-for.ts';

/**
 * A workflow served in this process with one device listener as its source (`run: builtin:<protocol>`),
 * QUIC on a free port, metrics on port 0, and a stream function collecting every fix the source wrote:
 * the path a device's bytes take to fixes, all of it real.
 */
export interface IngestServe {
  served: ServedWorkflow;
  fixes: GpsRecord[];
  /** waits until `n` fixes have arrived, and returns them */
  waitFixes(n: number): Promise<GpsRecord[]>;
  /** a counter's total from `/metrics` */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  stop(): Promise<void>;
}

export async function serveIngest(protocol: string, params: Record<string, unknown>, extraYaml = ''): Promise<IngestServe> {
  const dir = mkdtempSync(join(tmpdir(), `geoflux-ingest-${protocol}-`));
  const file = join(dir, 'workflow.yaml');
  writeFileSync(
    file,
    [
      `name: ingest-${protocol}`,
      'listen: [quic://127.0.0.1:0]',
      'metrics: { port: 0 }',
      'tags: { gps: 16 }',
      'functions:',
      '  - { name: collector, observe: gps }',
      'sources:',
      `  - { name: devices, run: builtin:${protocol}, params: ${JSON.stringify(params)} }`,
      extraYaml,
    ].join('\n'),
  );
  const served = await serveWorkflow(await loadWorkflow(file, {}));
  const fixes: GpsRecord[] = [];
  let collector: StreamFunction | undefined;
  try {
    collector = await connectStreamFunction({ name: 'collector', observe: ['gps'], zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash });
    collector.handle((in$) => in$.pipe(map((f: GpsRecord) => void fixes.push(f))));
  } catch (e) {
    await served.stop();
    throw e;
  }
  return {
    served,
    fixes,
    waitFixes: (n) => waitFor(() => fixes.length >= n && fixes, { what: () => `${n} fixes (have ${fixes.length})`, ms: 20_000 }),
    async metric(name, labels = {}) {
      const text = await (await fetch(served.metrics!.url)).text();
      return total(parseExposition(text), name, labels);
    },
    async stop() {
      await collector?.close();
      await served.stop();
    },
  };
}

