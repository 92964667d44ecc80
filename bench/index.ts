/**
 * `npm run bench -- <name...>`: runs the named benchmarks (all when none is named) and prints their tables.
 * Figures are for this machine at this moment: compare rows of one run, not runs of different days.
 */
const suites: Record<string, () => Promise<void>> = {
  transport: async () => {
    await (await import('./transport.ts')).run();
    console.log('\nThrough the zipper:\n');
    await (await import('./pipeline.ts')).run();
  },
  kernels: async () => (await import('./kernels.ts')).run(),
  events: async () => (await import('./events.ts')).run(),
  mapmatch: async () => (await import('./mapmatch.ts')).run(),
  traffic: async () => (await import('./traffic.ts')).run(),
  e2e: async () => (await import('./e2e.ts')).run(),
  startup: async () => (await import('./startup.ts')).run(),
  coldstart: async () => (await import('./coldstart.ts')).run(),
  autoscale: async () => (await import('./autoscale.ts')).run(),
  faults: async () => (await import('./faults.ts')).run(),
  dashboard: async () => (await import('./dashboard.ts')).run(),
  cluster: async () => (await import('./cluster.ts')).run(),
  query: async () => (await import('./query.ts')).run(),
  ingest: async () => (await import('./ingest.ts')).run(),
  soak: async () => (await import('./soak.ts')).run(),
  'quic-dials': async () => (await import('./quic-dials.ts')).run(),
  footprint: async () => (await import('./footprint.ts')).run(),
  'ack-counts': async () => (await import('./ack-counts.ts')).run(),
};

const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(`Usage: npm run bench -- [${Object.keys(suites).join('|')}]...\n\nRuns the named benchmarks (default: all but soak and footprint) and prints figures side by side.`);
  process.exit(0);
}
for (const n of names) if (!suites[n]) throw new Error(`unknown benchmark "${n}" (have: ${Object.keys(suites).join(', ')})`);
/** ten minutes and more (soak, quic-dials), or minutes of waiting on purpose (footprint): run when named */
const long = new Set(['soak', 'quic-dials', 'footprint']);
for (const n of names.length ? names : Object.keys(suites).filter((s) => !long.has(s))) {
  console.log(`\n## ${n}\n`);
  await suites[n]();
}
process.exit(0);
