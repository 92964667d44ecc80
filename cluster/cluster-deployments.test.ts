import { connect } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { sha256 } from '../serve/deployment-store.ts';
import { natsServerForFile } from '../testing/nats-suite.ts';
import { cloudDeployment, DeploymentConflict, moduleStored, putCloudDeployment, restoreCloudDeployment, type CloudDeployment } from './cluster-deployments.ts';
import { setUpStream } from './stream-setup.ts';

const server = natsServerForFile();
const GEOFENCE = readFileSync(resolve('kernels/build/geofence.wasm'));
const SPEEDING = readFileSync(resolve('examples/kernels/c/speeding.wasm'));
const zones = (wasm: Uint8Array, params: Record<string, unknown>): CloudDeployment => ({ name: 'zones', hash: sha256(wasm), observe: ['gps'], emit: ['zones'], params });

it('writes a deployment over the revision it read only: a write through another edge since is a conflict, and its module does not stay', async () => {
  const nc = await connect({ servers: server().url });
  try {
    const store = await setUpStream(nc, { stream: 'cas' });
    const fence = zones(GEOFENCE, { fences: 1 });
    const speeding = zones(SPEEDING, { limit: 50 });
    // two edges read the same (no record), both write
    const read = await cloudDeployment(store, 'zones');
    expect(read).toEqual({ d: undefined, revision: 0 });
    const won = await putCloudDeployment(store, fence, GEOFENCE, read.revision);
    await expect(putCloudDeployment(store, speeding, SPEEDING, read.revision)).rejects.toBeInstanceOf(DeploymentConflict);
    expect(await cloudDeployment(store, 'zones')).toEqual({ d: fence, revision: won });
    expect(await moduleStored(store, speeding.hash)).toBe(false);

    // a replace over what it read; a revert over a revision that moved on leaves the newer record alone
    const replaced = await putCloudDeployment(store, speeding, SPEEDING, won);
    await expect(restoreCloudDeployment(store, fence, { revision: 0 }, won)).rejects.toBeInstanceOf(DeploymentConflict);
    expect((await cloudDeployment(store, 'zones')).d).toEqual(speeding);
    // a revert over its own revision puts back what it read, and its module goes
    await restoreCloudDeployment(store, speeding, { d: fence, revision: won }, replaced);
    expect((await cloudDeployment(store, 'zones')).d).toEqual(fence);
    expect(await moduleStored(store, speeding.hash)).toBe(false);
    // a first deploy taken back leaves no record, nor its module; a deploy after it writes over the delete
    const lanes = { ...speeding, name: 'lanes' };
    const first = await putCloudDeployment(store, lanes, SPEEDING, 0);
    await restoreCloudDeployment(store, lanes, { revision: 0 }, first);
    const gone = await cloudDeployment(store, 'lanes');
    expect(gone.d).toBeUndefined();
    expect(await moduleStored(store, speeding.hash)).toBe(false);
    await putCloudDeployment(store, lanes, SPEEDING, gone.revision);
    // its module, deleted before, is there again
    expect(await moduleStored(store, speeding.hash)).toBe(true);
  } finally {
    await nc.close();
  }
});
