import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectCluster, type ClusterOptions } from '../cluster/cluster-options.ts';
import { cloudDeployment, cloudDeployments, DeploymentConflict, deploymentsSeq, putCloudDeployment, removeCloudDeployment, restoreCloudDeployment, versionOf, workerReports, type CloudDeployment, type DeploymentRecord, type WorkerReport } from '../cluster/cluster-deployments.ts';
import { setUpStream, type ClusterStore } from '../cluster/stream-setup.ts';
import type { Logger } from '../log/logger.ts';
import type { Workflow } from '../workflows/schema.ts';
import type { DeployRequest, FunctionInfo } from '../zipper/control.ts';
import { CloudRefused } from './cloud-refused.ts';
import { cloudInputTags } from './cloud-input-tags.ts';


/** ms an edge waits for every live worker to run or drop a version */
const SETTLE_MS = 30_000;
const LOOK_MS = 250;

/** The module checked as for the edge's own deploys, from a file of its own. */
async function verifyModule(wasm: Uint8Array, hash: string, verify: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'geoflux-deploy-'));
  try {
    const path = join(dir, `${hash}.wasm`);
    await writeFile(path, wasm);
    await verify(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The edge's side of `geoflux deploy --where cloud`: the zipper checks the module as for its own functions,
 * then the module goes to the cluster's object store and the deployment to its bucket
 * (cluster/cluster-deployments.ts), and the answer waits until every live worker says it runs it (or one
 * refused it, when the record goes back to what it was). Each request opens its own connection to the
 * cluster: they are rare, and an edge whose cloud bridge waits for NATS still answers.
 */
export class CloudDeployments {
  constructor(
    private readonly wf: Workflow & { cluster: ClusterOptions },
    private readonly log: Logger,
  ) {}

  /** tags a cloud function may observe: those the edge hands to the cluster, and what cloud functions make of them */
  private reaching(): string[] {
    return [...new Set([...cloudInputTags(this.wf), ...this.wf.functions.filter((f) => f.where === 'cloud').flatMap((f) => f.emit)])];
  }

  async deploy(req: DeployRequest, verify: (path: string) => Promise<void>, edgeNames: string[]): Promise<string> {
    const reach = this.reaching();
    const far = req.observe.find((t) => !reach.includes(t));
    if (far) throw new CloudRefused(`--observe ${far}: this edge hands the cluster ${reach.length ? `only ${reach.join(', ')}` : 'no tag'} (what its workflow's where: cloud functions observe, and what they emit)`);
    if (req.min !== 1 || req.max !== 1 || req.idle !== undefined) throw new CloudRefused('--where cloud: the function runs once on each worker, over the partitions it holds; --min, --max and --idle do not apply');
    if (edgeNames.includes(req.name)) throw new CloudRefused(`--name "${req.name}" is a function deployed to this edge: choose another`);
    const d: CloudDeployment = { name: req.name, hash: req.hash, observe: req.observe, emit: req.emit ?? [], params: req.params ?? {}, ...(req.freshState ? { freshState: true } : {}) };
    return this.withCluster(async (store) => {
      // read before the check: a deploy through another edge while this one is checked is a conflict, not overwritten
      const was = await cloudDeployment(store, d.name);
      const t0 = performance.now();
      await verifyModule(req.wasm, d.hash, verify);
      const t1 = performance.now();
      if (JSON.stringify(was.d) === JSON.stringify(d)) return `function "${d.name}" already runs kernel ${d.hash} on the cluster's workers`;
      let mine: number;
      try {
        mine = await putCloudDeployment(store, d, req.wasm, was.revision);
      } catch (e) {
        if (!(e instanceof DeploymentConflict)) throw e;
        throw new CloudRefused(`function "${d.name}" was changed through another edge while this deploy was checked: nothing changed here; ${this.say(await cloudDeployment(store, d.name))} (geoflux functions lists it; deploy again to replace it)`);
      }
      this.log.info(`deploy "${d.name}": kernel ${d.hash.slice(0, 12)}… stored in the cluster (stream "${store.stream}")${was.d ? `, in place of ${was.d.hash.slice(0, 12)}…` : ''}`);
      const v = versionOf(d);
      const { on, refusals, waiting, moved } = await this.settle(store, (r) => (r.kernels[d.name] === v ? 'on' : r.refused[d.name]?.version === v ? r.refused[d.name].error : undefined), { name: d.name, revision: mine });
      if (moved) throw new CloudRefused(`function "${d.name}" was changed through another edge before every worker ran this version: ${this.say(moved)}`);
      if (refusals.length) throw new CloudRefused(`function "${d.name}": ${refusals.map(([w, why]) => `worker ${w} refused it: ${why}`).join('; ')}; ${await this.revert(store, d, was, mine)}`);
      const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
      const what = `(${d.observe.join(',')} → ${d.emit.join(',') || '(none)'}, params ${JSON.stringify(d.params)})`;
      const replaced = was.d ? `; in place of the version with kernel ${was.d.hash.slice(0, 12)}… and params ${JSON.stringify(was.d.params)}, ${d.freshState ? 'its state handed over where the new version could take it, else started empty (--fresh-state)' : 'its state handed over'}` : '';
      if (!on.length && !waiting.length) return `function "${d.name}" is deployed to stream "${store.stream}" with kernel ${d.hash} ${what}, checked in ${ms(t0, t1)}; no worker is live: each that starts runs it${replaced}`;
      return `function "${d.name}" runs kernel ${d.hash} ${what} on ${on.length} worker${on.length === 1 ? '' : 's'}${on.length ? ` (${on.join(', ')})` : ''} of stream "${store.stream}"; checked in ${ms(t0, t1)}, running in ${ms(t1, performance.now())}${waiting.length ? `; not yet on ${waiting.join(', ')}, which will run it once they read the deployment` : ''}${replaced}`;
    });
  }

  /** what the cluster's record of a deployment now says */
  private say(now: DeploymentRecord): string {
    return now.d ? `it now runs kernel ${now.d.hash.slice(0, 12)}… with params ${JSON.stringify(now.d.params)}` : 'it is now undeployed';
  }

  /**
   * Puts back what a refused deploy replaced (or removes what it added) and waits until every live worker
   * runs that again, at most SETTLE_MS: a user told "refused" knows the cluster runs what it ran before,
   * or which workers do not yet. A deploy through another edge since is left as it is.
   */
  private async revert(store: ClusterStore, d: CloudDeployment, was: DeploymentRecord, mine: number): Promise<string> {
    try {
      await restoreCloudDeployment(store, d, was, mine);
    } catch (e) {
      if (e instanceof DeploymentConflict) return `not put back: it was changed through another edge meanwhile, and ${this.say(await cloudDeployment(store, d.name))}`;
      throw e;
    }
    const before = was.d && versionOf(was.d);
    // a worker still taking the refused version may say it runs the one before: only a look since counts
    const at = await deploymentsSeq(store.deployments);
    const { on, waiting } = await this.settle(store, (r) => (r.seq >= at && r.kernels[d.name] === before ? 'on' : undefined));
    const back = was.d ? 'the version before is back' : 'the deployment is withdrawn';
    if (waiting.length) return `${back}, but ${waiting.join(', ')} still ran the refused version ${SETTLE_MS / 1000} s later`;
    if (!on.length) return `${back} (no worker is live)`;
    return `${back}: ${was.d ? 'every live worker runs it again' : 'no live worker runs it'} (${on.join(', ')})`;
  }

  /** whether the cluster has a deployment of this name (an edge deploy must not take it); false when the cluster cannot be reached */
  async has(name: string): Promise<boolean> {
    return this.withCluster(async (store) => (await cloudDeployments(store)).has(name)).catch(() => false);
  }

  /** Undeploys a cloud deployment; when the cluster has none of that name, the names it has. */
  async undeploy(name: string): Promise<{ done: string } | { have: string[] }> {
    return this.withCluster(async (store) => {
      const was = await removeCloudDeployment(store, name);
      if (!was.has(name)) return { have: [...was.keys()] };
      this.log.info(`undeploy "${name}": removed from the cluster (stream "${store.stream}")`);
      const { waiting } = await this.settle(store, (r) => (r.kernels[name] === undefined ? 'on' : undefined));
      return { done: `function "${name}" undeployed from the cluster's workers${waiting.length ? ` (${waiting.join(', ')} still ran it ${SETTLE_MS / 1000} s later)` : ''}` };
    });
  }

  /** the workflow's cloud functions and the cloud deployments, with the number of live workers running each */
  list(): Promise<FunctionInfo[]> {
    return this.withCluster(async (store) => {
      const reports = [...(await workerReports(store)).values()];
      const fromFile = this.wf.functions
        .filter((f) => f.where === 'cloud')
        .map((f): FunctionInfo => ({ name: f.name, origin: 'workflow', where: 'cloud', runs: f.kernel ? basename(f.kernel) : f.run, observe: f.observe, emit: f.emit, instances: reports.length }));
      return [...fromFile, ...[...(await cloudDeployments(store)).values()].map((d) => ({
        name: d.name,
        origin: 'deployed' as const,
        where: 'cloud' as const,
        hash: d.hash,
        observe: d.observe,
        emit: d.emit,
        instances: reports.filter((r) => r.kernels[d.name] === versionOf(d)).length,
      }))];
    });
  }

  /**
   * Waits until every live worker's report says `on` (or a refusal), at most SETTLE_MS: a worker that
   * registers meanwhile is waited for too. With `mine`, the wait ends when that record is written again
   * (`moved`): what the workers run then is another deploy's.
   */
  private async settle(store: ClusterStore, verdict: (r: WorkerReport) => string | undefined, mine?: { name: string; revision: number }) {
    const end = Date.now() + SETTLE_MS;
    for (;;) {
      const now = mine && (await cloudDeployment(store, mine.name));
      if (now && now.revision !== mine.revision) return { on: [], refusals: [], waiting: [], moved: now };
      const reports = [...(await workerReports(store))];
      const on = reports.filter(([, r]) => verdict(r) === 'on').map(([w]) => w);
      const refusals = reports.flatMap(([w, r]) => {
        const v = verdict(r);
        return v && v !== 'on' ? [[w, v] as const] : [];
      });
      const waiting = reports.filter(([, r]) => verdict(r) === undefined).map(([w]) => w);
      if (!waiting.length || refusals.length || Date.now() >= end) return { on, refusals, waiting, moved: undefined };
      await sleep(LOOK_MS);
    }
  }

  private async withCluster<T>(f: (store: ClusterStore) => Promise<T>): Promise<T> {
    const { cluster } = this.wf;
    let nc;
    try {
      // asked once: a control request answers now, it does not wait for a server to come back
      nc = await connectCluster(cluster, `geoflux control ${this.wf.name}`, { waitOnFirstConnect: false });
    } catch (e) {
      throw new CloudRefused(`cannot reach the cluster at ${cluster.servers.join(', ')} (${(e as Error).message})`);
    }
    try {
      return await f(await setUpStream(nc, cluster));
    } finally {
      await nc.close();
    }
  }
}
