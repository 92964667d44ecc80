import { HIGHWAY_CLASSES } from '../network/highway-classes.ts';
import { loadNetwork } from '../network/load-network.ts';
import { areasFromOsm } from '../network/osm-areas.ts';
import { bboxOf, edgeCount, nodeCount } from '../network/road-graph.ts';
import { UsageError, type Parsed } from './args.ts';
import { networkSpec } from './command-specs.ts';
import { didYouMean } from '../workflows/errors.ts';
import { thousands } from '../log/thousands.ts';


export async function networkCommand({ values, positionals }: Parsed): Promise<void> {
  const [sub, input] = positionals;
  if (sub !== 'info' && sub !== 'areas') throw new UsageError(`geoflux network has two subcommands: info and areas (got "${sub ?? ''}")${didYouMean(sub ?? '', ['info', 'areas'])}`);
  if (!input) throw new UsageError(`geoflux network ${sub} needs a file: ${networkSpec.usage}`);
  if (sub === 'areas') {
    const fc = await areasFromOsm(input, { adminLevel: Number(values['admin-level']) });
    process.stderr.write(`${fc.features.length} areas at admin_level ${values['admin-level']}: ${fc.features.map((f) => f.id).join(', ')}\n`);
    return void process.stdout.write(JSON.stringify(fc) + '\n');
  }
  const net = await loadNetwork(input);
  const g = net.graph;
  const km = g.edgeLength.reduce((s, x) => s + x, 0) / 1000;
  const classes: Record<string, number> = {};
  for (const c of g.edgeClass) if (c !== 255) classes[HIGHWAY_CLASSES[c][0]] = (classes[HIGHWAY_CLASSES[c][0]] ?? 0) + 1;
  const summary = {
    file: input,
    format: net.format,
    nodes: nodeCount(g),
    edges: edgeCount(g),
    km: Math.round(km * 10) / 10,
    bbox: bboxOf(g),
    classes,
    ms: Math.round(net.ms),
    cache: net.cache ? `${net.cache} (${net.fromCache ? 'read' : 'written'})` : undefined,
  };
  if (values.json) return void process.stdout.write(JSON.stringify(summary) + '\n');
  const lines = [
    `${input} (${net.format})`,
    `  nodes    ${thousands(summary.nodes)}`,
    `  edges    ${thousands(summary.edges)} directed, ${thousands(summary.km)} km`,
    `  bbox     ${summary.bbox.map((x) => x.toFixed(6)).join(', ')}`,
    ...(Object.keys(classes).length ? [`  classes  ${Object.entries(classes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ')}`] : []),
    `  loaded   in ${summary.ms} ms${summary.cache ? `; cache ${summary.cache}` : ''}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
