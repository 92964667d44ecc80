import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startSetting } from './footprint.ts';

describe("the footprint bench's npm start row", () => {
  it("runs serve with npm start's own environment and Node flags", () => {
    expect(startSetting('MALLOC_MMAP_THRESHOLD_=65536 MALLOC_TRIM_THRESHOLD_=131072 node --optimize-for-size --v8-pool-size=1 bin/geoflux.js serve workflow.yaml')).toEqual({
      env: { MALLOC_MMAP_THRESHOLD_: '65536', MALLOC_TRIM_THRESHOLD_: '131072' },
      flags: ['--optimize-for-size', '--v8-pool-size=1'],
    });
    expect(startSetting('node bin/geoflux.js serve workflow.yaml')).toEqual({ env: {}, flags: [] });
    expect(() => startSetting('tsx cli/main.ts serve workflow.yaml')).toThrow(/npm start is not/);
    expect(() => startSetting('cd x && node bin/geoflux.js serve workflow.yaml')).toThrow(/npm start is not/);
  });

  it("reads flags from package.json that node takes, and that cap V8's young generation", () => {
    const { flags } = startSetting(JSON.parse(readFileSync('package.json', 'utf8')).scripts.start);
    // objects that survive scavenges: V8 grows its young generation to 32 MB for them unless capped
    const grow = "const keep = []; for (let i = 0; i < 2e6; i++) keep.push({ i, s: 'x' + i }); require('v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size";
    const young = execFileSync(process.execPath, [...flags, '-p', grow], { encoding: 'utf8' });
    expect(Number(young)).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
