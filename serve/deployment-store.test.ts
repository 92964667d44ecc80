import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failingServe, startServe } from '../testing/serve-process.ts';
import { DeploymentStore } from './deployment-store.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** a state folder whose deployments.json says `text` */
const stateWith = (text?: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-store-'));
  dirs.push(dir);
  const state = join(dir, 'state');
  mkdirSync(state);
  if (text !== undefined) writeFileSync(join(state, 'deployments.json'), text);
  return { dir, state, file: join(state, 'deployments.json') };
};
const HASH = 'ab'.repeat(32);
const MEND = 'it lists the functions deployed at run time: mend it, or move it aside to start without them';

describe("the state folder's deployments.json", () => {
  it('none yet: no deployments; a list of them: the list', async () => {
    expect(await new DeploymentStore(stateWith().state).list()).toEqual([]);
    const one = { name: 'fast', hash: HASH, observe: ['gps'], emit: ['alerts'], params: { limit: 5 }, min: 1, max: 1 };
    expect(await new DeploymentStore(stateWith(JSON.stringify([one])).state).list()).toEqual([one]);
  });

  it("a replaced one's version; one written with its version in its name (heavy@3): the function, its version apart", async () => {
    const one = { name: 'heavy', hash: HASH, observe: ['gps'], emit: [], params: {}, min: 1, max: 1, version: 3 };
    expect(await new DeploymentStore(stateWith(JSON.stringify([one])).state).list()).toEqual([one]);
    expect(await new DeploymentStore(stateWith(JSON.stringify([{ ...one, name: 'heavy@3', version: undefined }])).state).list()).toEqual([one]);
    // written by hand as a first version: the function, no number (which the next start would refuse)
    const { version: _, ...first } = one;
    expect(await new DeploymentStore(stateWith(JSON.stringify([{ ...one, name: 'heavy@1', version: undefined }])).state).list()).toEqual([first]);
  });

  it('not JSON: its path, and where in it, as a line and column', async () => {
    const { state, file } = stateWith('[\n  { name: "fast" }\n]\n');
    await expect(new DeploymentStore(state).list()).rejects.toThrow(new RegExp(`^${file} is not JSON: .* at line 2, column 5; ${MEND}$`));
  });

  it('JSON, but not deployments: its path and the field', async () => {
    const { state, file } = stateWith(JSON.stringify([{ name: 'fast', hash: 'nope', observe: ['gps'], emit: [], params: {}, min: 1, max: 1 }]));
    await expect(new DeploymentStore(state).list()).rejects.toThrow(`${file} is not a list of deployments: [0].hash is not a SHA-256 in hex; ${MEND}`);
    await expect(new DeploymentStore(stateWith('{}').state).list()).rejects.toThrow(/is not a list of deployments: the whole /);
  });

  it('says what is wrong in the words zod said it before the checks were written out; fields it does not know are kept', async () => {
    const ONE = { name: 'fast', hash: HASH, observe: ['gps'], emit: [], params: {}, min: 1, max: 1 };
    const cases: [deployments: unknown, what: string][] = [
      [{}, "the whole Invalid input: expected array, received object"],
      [[5], "[0] Invalid input: expected object, received number"],
      [[{ ...ONE, hash: 'nope' }], "[0].hash is not a SHA-256 in hex"],
      [[{ ...ONE, min: -1 }], "[0].min Too small: expected number to be >=0"],
      [[{ ...ONE, max: 1.5 }], "[0].max Invalid input: expected int, received number"],
      [[{ ...ONE, idle: 0 }], "[0].idle Too small: expected number to be >0"],
      [[{ ...ONE, observe: 'gps' }], "[0].observe Invalid input: expected array, received string"],
      [[{ ...ONE, params: [] }], "[0].params Invalid input: expected record, received array"],
      [[{ ...ONE, name: undefined }], "[0].name Invalid input: expected string, received undefined"],
    ];
    for (const [deployments, what] of cases) {
      const { state, file } = stateWith(JSON.stringify(deployments));
      await expect(new DeploymentStore(state).list()).rejects.toThrow(`${file} is not a list of deployments: ${what}; ${MEND}`);
    }
    const kept = [{ ...ONE, extra: 1, idle: 30 }];
    expect(await new DeploymentStore(stateWith(JSON.stringify(kept)).state).list()).toEqual(kept);
  });

  it('unusable: serve says so with the path before anything starts, and exits 1', { timeout: 60_000 }, async () => {
    const { dir, state, file } = stateWith('[\n  { name: "fast" }\n]\n');
    const workflow = join(dir, 'w.yaml');
    writeFileSync(workflow, `name: w\nlisten: [quic://127.0.0.1:0]\nstate: ${state}\ncontrol: { token: control-w }\ntags: { gps: 16 }\nfunctions:\n  - { name: printer, observe: [gps], host: local, run: builtin:printer }\n`);
    const { code, stderr } = await failingServe(workflow);
    expect(code).toBe(1);
    expect(stderr).toContain(`geoflux serve: ${file} is not JSON: `);
    expect(stderr).not.toMatch(/function "printer"|listening on:/);
  });

  it('unusable, in a workflow with no control: section (no deploy will write it): a warning, and serve runs', { timeout: 60_000 }, async () => {
    const { dir, state, file } = stateWith('[\n  { name: "fast" }\n]\n');
    const workflow = join(dir, 'w.yaml');
    writeFileSync(workflow, `name: w\nlisten: [quic://127.0.0.1:0]\nstate: ${state}\ntags: { gps: 16 }\nfunctions:\n  - { name: printer, observe: [gps], host: local, run: builtin:printer }\n`);
    const serve = await startServe(workflow);
    try {
      expect(serve.out.stderr).toContain(`WARN  [serve] ${file} is not JSON: `);
      expect(serve.out.stderr).toContain('(not used: the workflow has no control: section)');
    } finally {
      await serve.stop();
    }
  });
});
