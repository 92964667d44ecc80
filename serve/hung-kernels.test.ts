import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { waitFor } from '../testing/wait-for.ts';
import { sha256 } from './deployment-store.ts';
import { HungKernels, moduleHash } from './hung-kernels.ts';

const dir = mkdtempSync(join(tmpdir(), 'geoflux-hung-kernels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const stateDir = () => {
  const d = join(dir, `state-${++n}`);
  mkdirSync(d);
  return d;
};
const HASH = 'a'.repeat(64);

describe('the modules remembered to have hung a shared host thread', () => {
  it('are written to the state folder and read back at the next start', async () => {
    const state = stateDir();
    const first = await HungKernels.load(state, keptLinesLog());
    expect(first.none).toBe(true);
    first.remember(HASH, 'loopa');
    // the first function it hung as is kept
    first.remember(HASH, 'loopb');
    await waitFor(() => existsSync(join(state, 'hung-kernels.json')), 'the file written');
    const again = await HungKernels.load(state, keptLinesLog());
    expect(again.of(HASH)).toEqual({ function: 'loopa', at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(again.of('b'.repeat(64))).toBeUndefined();
  });

  it('a file that cannot be used is said and read as none, not fatal', async () => {
    const state = stateDir();
    writeFileSync(join(state, 'hung-kernels.json'), '{"x": 1}');
    const log = keptLinesLog();
    expect((await HungKernels.load(state, log)).none).toBe(true);
    expect(log.said).toEqual([expect.stringMatching(/^warn .*hung-kernels\.json: not used \(x: .*\): kernels that hung a shared host thread before start in one again$/)]);
  });

  it('a folder that cannot be written is said, and the module is remembered while serve runs', async () => {
    // a file where the state folder should be: neither read nor written
    const state = join(dir, 'a-file');
    writeFileSync(state, '');
    const log = keptLinesLog();
    const hung = await HungKernels.load(state, log);
    hung.remember(HASH, 'loopa');
    expect(hung.of(HASH)?.function).toBe('loopa');
    await waitFor(() => log.said.length === 2, 'the failed write said');
    expect(log.said[1]).toMatch(/^warn .*hung-kernels\.json: could not be written \(.*\): after a restart of serve, kernels that hung a shared host thread start in one again$/);
  });
});

describe('moduleHash', () => {
  it("is the SHA-256 of a kernel file's bytes, and undefined for one that cannot be read", () => {
    const spin = resolve('kernels/build/testing/spin.wasm');
    expect(moduleHash(spin, '/')).toBe(sha256(readFileSync(spin)));
    expect(moduleHash('gone.wasm', dir)).toBeUndefined();
  });
});
