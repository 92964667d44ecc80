import { describe, expect, it } from 'vitest';
import { ownWorker } from './own-worker.ts';

describe('ownWorker', () => {
  it('runs a module of geoflux in a thread that does not warn about the node:wasi it uses on purpose', async () => {
    const worker = ownWorker(import.meta.url, './testdata/uses-wasi', { stderr: true });
    let stderr = '';
    worker.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise((resolve, reject) => worker.once('exit', resolve).once('error', reject));
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});
