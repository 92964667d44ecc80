import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LineSink } from './line-sink.ts';

describe('LineSink', () => {
  it('waits out a full buffer as often as it fills without leaving listeners behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-line-sink-'));
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const sink = new LineSink(join(dir, 'lines.txt'));
      // each write is larger than the stream's buffer, so each one waits for 'drain'
      const line = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 40; i++) await sink.write([line]);
      await sink.close();
      await new Promise((r) => setImmediate(r));
      expect(warnings.map((w) => w.name)).toEqual([]);
      expect(readFileSync(join(dir, 'lines.txt'), 'utf8').length).toBe(40 * (line.length + 1));
    } finally {
      process.off('warning', onWarning);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails as it is made, saying why, for a path it cannot write: no work starts to end in a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-line-sink-'));
    try {
      expect(() => new LineSink(join(dir, 'no', 'f.csv'))).toThrow(`cannot write ${join(dir, 'no', 'f.csv')}: no such directory`);
      expect(() => new LineSink(dir)).toThrow(`cannot write ${dir}: it is a directory`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
