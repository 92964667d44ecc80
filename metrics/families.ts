import type { HistogramSnapshot } from './histogram.ts';

/**
 * Metric families read from live state at scrape time, in the form prom-client's Registry formats (`name`
 * and `get()`), so the components being measured keep plain counters of their own (the SDKs need no
 * Prometheus library) and a counter kept in a worker thread is exported like one kept here.
 */

export type Labels = Record<string, string>;

export interface Sample {
  labels?: Labels;
  value: number;
}

interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

export interface Family {
  name: string;
  get(): Promise<{ name: string; help: string; type: 'counter' | 'gauge' | 'histogram'; values: Value[]; aggregator: 'sum' }>;
}

const key = (labels: Labels = {}) => JSON.stringify(Object.entries(labels).sort());

/** one series per label set: samples with the same labels (instances of one function, say) are added up */
function merged<T>(items: { labels?: Labels; x: T }[], add: (a: T, b: T) => T): { labels: Labels; x: T }[] {
  const out = new Map<string, { labels: Labels; x: T }>();
  for (const { labels = {}, x } of items) {
    const k = key(labels);
    const had = out.get(k);
    out.set(k, had ? { labels, x: add(had.x, x) } : { labels, x });
  }
  return [...out.values()];
}

const family = (name: string, help: string, type: 'counter' | 'gauge', samples: () => Sample[]): Family => ({
  name,
  get: async () => ({
    name,
    help,
    type,
    aggregator: 'sum',
    values: merged(samples().map((s) => ({ labels: s.labels, x: s.value })), (a, b) => a + b).map((s) => ({ labels: s.labels, value: s.x })),
  }),
});

/** a counter (its name ends in _total): only ever goes up, across restarts of what counts it too */
export const counter = (name: string, help: string, samples: () => Sample[]): Family => family(name, help, 'counter', samples);

export const gauge = (name: string, help: string, samples: () => Sample[]): Family => family(name, help, 'gauge', samples);

/** a histogram from snapshots of ours (counts per bucket, not cumulative), one series per label set */
export const histogram = (name: string, help: string, samples: () => { labels?: Labels; h: HistogramSnapshot }[]): Family => ({
  name,
  get: async () => {
    const values: Value[] = [];
    for (const { labels, x: h } of merged(samples().map((s) => ({ labels: s.labels, x: s.h })), addHistograms)) {
      let cumulative = 0;
      h.bounds.forEach((le, i) => {
        cumulative += h.counts[i];
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(le) }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
      values.push({ metricName: `${name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${name}_count`, labels, value: h.count });
    }
    return { name, help, type: 'histogram', aggregator: 'sum', values };
  },
});

/**
 * Stats snapshots added up field by field: numbers are summed, histograms bucket by bucket, nested objects
 * (counts by reason) key by key; what is neither (a flag, a name) is left out. How the counts of a thread's
 * earlier incarnations are carried into its current ones, and instances into their function.
 */
export function addUp(items: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    if (!item || typeof item !== 'object') continue;
    for (const [k, v] of Object.entries(item)) {
      if (typeof v === 'number') out[k] = ((out[k] as number | undefined) ?? 0) + v;
      else if (isHistogram(v)) out[k] = addHistograms(out[k] as HistogramSnapshot | undefined, v);
      else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = addUp([out[k], v]);
    }
  }
  return out;
}

const isHistogram = (v: unknown): v is HistogramSnapshot => !!v && typeof v === 'object' && Array.isArray((v as HistogramSnapshot).bounds) && Array.isArray((v as HistogramSnapshot).counts);

function addHistograms(a: HistogramSnapshot | undefined, b: HistogramSnapshot): HistogramSnapshot {
  if (!a) return { ...b, counts: [...b.counts] };
  return { bounds: a.bounds, counts: a.counts.map((c, i) => c + (b.counts[i] ?? 0)), sum: a.sum + b.sum, count: a.count + b.count };
}
