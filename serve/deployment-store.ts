import { pathText } from '../codecs/path-text.ts';
import { aboveZero, array, atLeast, checked, checkShape, int, matches, number, object, optional, record, string, unknown, type Made } from '../codecs/shape-check.ts';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFolder, writeAtomically } from '../transport/state-files.ts';
import type { WorkflowFunction } from '../workflows/schema.ts';
import { partsOf } from './versioned-name.ts';

/**
 * The functions deployed at run time, kept in the workflow's state folder so that a restart comes back with
 * them: `deployments.json` lists them, and each module is stored under its SHA-256 (`kernels/<hash>.wasm`),
 * so a deployment is pinned to the bytes that were verified, whatever happens to the file it came from.
 */

/** what `deployments.json` holds: checked, so that a file edited by hand is refused at start, not half-used */
const count = checked(int, atLeast(0));
const savedDeployment = object(
  {
    name: string,
    /** SHA-256 of the module's bytes */
    hash: checked(string, matches(/^[0-9a-f]{64}$/, 'is not a SHA-256 in hex')),
    observe: array(string),
    emit: array(string),
    params: record(unknown),
    min: count,
    max: count,
    /** with min 0: seconds without a frame before it is scaled to zero */
    idle: optional(checked(number, aboveZero())),
    /** replaced: which version of it runs (serve/versioned-name.ts); absent, the first */
    version: optional(checked(int, atLeast(2))),
  },
  'dropped',
);
const savedDeployments = array(savedDeployment);

export type Deployment = Made<typeof savedDeployment>;

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

/** JSON.parse's "at position N" as a line and column, which an editor goes to */
function atLineAndColumn(text: string, message: string): string {
  const at = /(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?/.exec(message);
  if (!at) return message;
  const before = text.slice(0, Number(at[1])).split('\n');
  return `${message.slice(0, at.index)} at line ${before.length}, column ${before.at(-1)!.length + 1}${message.slice(at.index + at[0].length)}`;
}

export class DeploymentStore {
  constructor(readonly dir: string) {}

  private get listFile(): string {
    return join(this.dir, 'deployments.json');
  }

  /** where deployed modules are kept, each under its hash */
  get modulesFolder(): string {
    return join(this.dir, 'kernels');
  }

  modulePath(hash: string): string {
    return join(this.modulesFolder, `${hash}.wasm`);
  }

  /**
   * The deployments saved by earlier runs. A file that cannot be taken as them is an error naming it and
   * what is wrong, for serve to say before anything starts: read as none, the next deploy would overwrite it.
   */
  async list(): Promise<Deployment[]> {
    let text: string;
    try {
      text = await readFile(this.listFile, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read ${this.listFile}: ${(e as Error).message}`);
    }
    const unusable = (why: string) => new Error(`${this.listFile} ${why}; it lists the functions deployed at run time: mend it, or move it aside to start without them`);
    let all: unknown;
    try {
      all = JSON.parse(text);
    } catch (e) {
      throw unusable(`is not JSON: ${atLineAndColumn(text, (e as Error).message)}`);
    }
    const [issue] = checkShape(savedDeployments, all).issues;
    if (issue) {
      throw unusable(`is not a list of deployments: ${pathText(issue.path) || 'the whole'} ${issue.message}`);
    }
    // a file written with a version in the name (`heavy@3`): the function, and its version apart
    return (all as Deployment[]).map((d) => {
      const { name, version } = partsOf(d.name);
      // a first version has no number (`heavy@1` by hand is `heavy`): kept, a 1 would fail the next start's check
      return version === undefined ? d : version >= 2 ? { ...d, name, version } : { ...d, name };
    });
  }

  async save(all: Deployment[]): Promise<void> {
    await makeFolder(this.dir, 'the state folder');
    await writeAtomically(this.listFile, JSON.stringify(all, null, 2) + '\n', 0o600);
  }

  /** Stores a module under its hash; returns its path. */
  async putModule(bytes: Uint8Array): Promise<string> {
    const path = this.modulePath(sha256(bytes));
    await makeFolder(this.modulesFolder, "the state folder's modules folder", 0o755);
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
