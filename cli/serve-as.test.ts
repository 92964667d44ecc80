import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExposition, total } from '../metrics/parse-exposition.ts';
import { freePort } from '../testing/free-port.ts';
import { startGeoflux } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import { simulateAs } from './simulate-as.ts';

const workflow = (sources: string) =>
  [
    'name: as-osmand',
    'listen: [quic://127.0.0.1:0]',
    'metrics: { port: 0 }',
    'tags: { gps: 16 }',
    'functions:',
    '  - { name: count, observe: gps, host: local, run: builtin:printer }',
    'sources:',
    sources,
  ].join('\n');
const sim = `  - { name: sim, run: builtin:traffic, params: { network: ${resolve('../shared/data/osm/monaco.osm.pbf')}, vehicles: 5, duration: 30, speed: max } }`;

describe('geoflux serve --as osmand', () => {
  it("sends the simulators' fixes through the workflow's osmand listener", async () => {
    const port = await freePort();
    const file = join(mkdtempSync(join(tmpdir(), 'geoflux-as-')), 'workflow.yaml');
    writeFileSync(file, workflow(`  - { name: phones, run: builtin:osmand, params: { port: ${port} } }\n${sim}`));
    const serve = await startGeoflux(['serve', file, '--stats-every', '0', '--as', 'osmand'], /metrics: http:\/\/\S+/);
    try {
      const url = serve.out.stderr.match(/metrics: (http:\/\/\S+)/)![1];
      const metric = async (name: string, labels: Record<string, string>) => total(parseExposition(await (await fetch(url)).text()), name, labels);
      await waitFor(() => metric('geoflux_ingest_fixes_total', { source: 'phones' }), { until: (n) => n >= 20, what: () => `the simulated phones' fixes through the osmand listener\n${serve.out.stderr}` });
      expect(serve.out.stderr).toMatch(new RegExp(`sending fixes as Traccar Client phones do, to the osmand listener at http://127\\.0\\.0\\.1:${port}`));
      expect(serve.out.stdout).toMatch(/^\{"deviceId":"veh/m);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('adds a listener on 5055 to a workflow without one; names what it cannot do', () => {
    const wf = parseWorkflow(workflow(sim), 'w.yaml', {});
    expect(simulateAs(wf, 'osmand').sources.map((s) => [s.name, s.params?.as ?? s.params?.port])).toEqual([
      ['osmand-phones', 5055],
      ['sim', 'osmand'],
    ]);
    expect(() => simulateAs(wf, 'osmnd')).toThrow(/cannot speak "osmnd" \(did you mean "osmand"\?\)/);
    expect(() => simulateAs(parseWorkflow(workflow('  - { name: r, run: builtin:replay, params: { files: [x.csv] } }'), 'w.yaml', {}), 'osmand')).toThrow(/has none/);
  });
});
