import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeAtomically } from '../transport/cert-store.ts';
import type { WorkflowFunction } from '../workflows/schema.ts';

/**
 * The functions deployed at run time, kept in the workflow's state folder so that a restart comes back with
 * them: `deployments.json` lists them, and each module is stored under its SHA-256 (`kernels/<hash>.wasm`),
 * so a deployment is pinned to the bytes that were verified, whatever happens to the file it came from.
 */

export interface Deployment {
  name: string;
  /** SHA-256 of the module's bytes */
  hash: string;
  observe: string[];
  emit: string[];
  params: Record<string, unknown>;
  min: number;
  max: number;
  /** with min 0: seconds without a frame before it is scaled to zero */
  idle?: number;
}

export const instancesOf = (d: Pick<Deployment, 'min'>): number => Math.max(1, d.min);

/**
 * A deployment as the function that runs it, under its version's name: at an edge, its instances partitioned
 * by device; on a cluster's workers (`where: cloud`), once on each worker, over the partitions it holds.
 */
export const deployedFunction = (d: Pick<Deployment, 'observe' | 'emit' | 'params'> & { min?: number }, name: string, kernel: string, where: 'edge' | 'cloud' = 'edge'): WorkflowFunction => ({
  name,
  observe: d.observe,
  emit: d.emit,
  dispatch: { kind: 'partition', key: 'deviceId' },
  instances: instancesOf({ min: d.min ?? 1 }),
  host: 'local',
  kernel,
  params: d.params,
  where,
});

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export class DeploymentStore {
  constructor(readonly dir: string) {}

  private get listFile(): string {
    return join(this.dir, 'deployments.json');
  }

  modulePath(hash: string): string {
    return join(this.dir, 'kernels', `${hash}.wasm`);
  }

  async list(): Promise<Deployment[]> {
    let text: string;
    try {
      text = await readFile(this.listFile, 'utf8');
    } catch {
      return [];
    }
    return JSON.parse(text) as Deployment[];
  }

  async save(all: Deployment[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeAtomically(this.listFile, JSON.stringify(all, null, 2) + '\n', 0o600);
  }

  /** Stores a module under its hash; returns its path. */
  async putModule(bytes: Uint8Array): Promise<string> {
    const path = this.modulePath(sha256(bytes));
    await mkdir(join(this.dir, 'kernels'), { recursive: true });
    await writeAtomically(path, bytes, 0o644);
    return path;
  }

  /** The stored module's path, once its bytes are checked against the hash it is pinned by. */
  async pinnedModule(hash: string): Promise<string> {
    const path = this.modulePath(hash);
    const bytes = await readFile(path).catch(() => {
      throw new Error(`its module ${path} is gone`);
    });
    if (sha256(bytes) !== hash) throw new Error(`its module ${path} no longer has the hash it was deployed with (${hash})`);
    return path;
  }

  async dropModule(hash: string): Promise<void> {
    await rm(this.modulePath(hash), { force: true });
  }
}
