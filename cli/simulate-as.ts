import { DEFAULT_PORTS } from '../ingest/ingest-params.ts';
import { didYouMean } from '../workflows/errors.ts';
import type { Workflow } from '../workflows/schema.ts';
import { UsageError } from './args.ts';

/** the device protocols `geoflux serve --as` can make a workflow's simulators speak */
export const SIMULATE_AS = ['osmand'];

/**
 * `geoflux serve --as osmand` (`npm start -- --as osmand`): the workflow's simulators (`builtin:traffic`
 * sources) send their fixes as Traccar Client phones would, to the workflow's osmand listener, or to one
 * added on Traccar's port 5055 when it has none: the demo, through the path a real phone's fix takes.
 */
export function simulateAs(wf: Workflow, protocol: string): Workflow {
  if (!SIMULATE_AS.includes(protocol)) throw new UsageError(`--as: the simulators cannot speak "${protocol}"${didYouMean(protocol, SIMULATE_AS)} (they speak: ${SIMULATE_AS.join(', ')})`);
  if (!wf.sources.some((s) => s.run === 'builtin:traffic')) throw new UsageError(`--as ${protocol} switches the workflow's simulators (builtin:traffic sources), and ${wf.file} has none`);
  let listener = wf.sources.find((s) => s.run === 'builtin:osmand');
  const sources = [...wf.sources];
  if (!listener) {
    listener = { name: 'osmand-phones', run: 'builtin:osmand', params: { port: DEFAULT_PORTS.osmand } };
    sources.unshift(listener);
  }
  const host = String(listener.params?.host ?? '127.0.0.1');
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${Number(listener.params?.port ?? DEFAULT_PORTS.osmand)}`;
  return { ...wf, sources: sources.map((s) => (s.run === 'builtin:traffic' ? { ...s, params: { ...s.params, as: protocol, url } } : s)) };
}
