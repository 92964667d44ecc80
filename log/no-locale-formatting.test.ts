import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * geoflux formats its numbers and times itself (log/thousands.ts, alerts/format-alert.ts): the first
 * locale-aware call of a process (`toLocaleString`, `Intl.*`, `localeCompare`) maps about 5 MB of ICU's data
 * and code into its RSS for good (issue #23, item 5: measured in docs/serverless.md, Footprint: ICU). The
 * browser page (dashboard/page) and the benchmarks are not the edge's processes; tests may use them as oracles.
 */
const LOCALE = /\btoLocale\w*(String|Case)\(|\bIntl\.|\blocaleCompare\(/;
const SKIPPED = new Set(['node_modules', 'dist', 'bench', '.git', '.scratch']);

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIPPED.has(e.name) && path !== join('dashboard', 'page')) out.push(...(await sources(path)));
    } else if (/\.(ts|mjs|js)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(path);
  }
  return out;
}

describe('locale-aware formatting', () => {
  it('is used by no module an edge process runs', async () => {
    const found: string[] = [];
    for (const file of await sources('.')) {
      for (const [i, line] of (await readFile(file, 'utf8')).split('\n').entries()) if (LOCALE.test(line) && !/^\s*(\/\/|\/?\*)/.test(line)) found.push(`${file}:${i + 1}`);
    }
    expect(found).toEqual([]);
  });
});
