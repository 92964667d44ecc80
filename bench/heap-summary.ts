import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { table } from './stats.ts';

/**
 * What V8 heap snapshots hold, side by side: the 25 kinds of object (constructor, or type for strings, code,
 * arrays) that take most bytes in the last snapshot, with count and MB in each. For the soak's snapshots of
 * serve (bench/soak.ts, GEOFLUX_SOAK_HEAP_DIR): what grows between them is what to look at.
 *
 *   node --import tsx bench/heap-summary.ts a.heapsnapshot b.heapsnapshot …
 */

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

function kinds(path: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const [types] = s.snapshot.meta.node_types;
  const [TYPE, NAME, SIZE, W] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size'), fields.length];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += W) {
    const type = types[s.nodes[i + TYPE]];
    // objects by constructor; everything else (strings, code, arrays, closures) by what it is
    const kind = type === 'object' || type === 'native' ? s.strings[s.nodes[i + NAME]] : type === 'closure' ? `closure ${s.strings[s.nodes[i + NAME]] || '(anonymous)'}` : `(${type})`;
    const k = out.get(kind) ?? (out.set(kind, { count: 0, bytes: 0 }), out.get(kind)!);
    k.count++;
    k.bytes += s.nodes[i + SIZE];
  }
  return out;
}

const paths = process.argv.slice(2);
const all = paths.map(kinds);
const last = all[all.length - 1];
const top = [...last.entries()].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25).map(([k]) => k);
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const totals = all.map((m) => [...m.values()].reduce((a, v) => a + v.bytes, 0));
console.log(
  table(
    ['kind', ...paths.flatMap((p) => [`${basename(p, '.heapsnapshot')} count`, 'MB'])],
    [...top.map((k) => [k.length > 50 ? k.slice(0, 50) + '…' : k, ...all.flatMap((m) => [m.get(k)?.count ?? 0, mb(m.get(k)?.bytes ?? 0)])]), ['all', ...totals.flatMap((t) => ['', mb(t)])]],
  ),
);
