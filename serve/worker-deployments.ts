import { cloudDeployments, cloudModule, deploymentsSeq, describeReport, encodeReport, versionOf, type CloudDeployment, type WorkerReport } from '../cluster/cluster-deployments.ts';
import type { ClusterStore } from '../cluster/stream-setup.ts';
import { oneLine, quoted } from '../codecs/control-characters.ts';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import type { Workflow } from '../workflows/schema.ts';
import type { CloudChain } from './cloud-chain.ts';
import { deployedFunction, DeploymentStore } from './deployment-store.ts';

/** ms between two looks at the cluster's deployments */
export const DEPLOYMENTS_POLL_MS = 1_000;

const same = (a: CloudDeployment | undefined, b: CloudDeployment) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A worker's share of `geoflux deploy --where cloud`: it runs what the cluster's deployments bucket lists,
 * each module fetched from the object store, checked against its hash and kept in the workflow's state
 * folder. A look asks the bucket's last sequence and reads the records only when it moved. A version the
 * worker cannot run (its module missing, the state hand-over refused) is said in the log and in its report;
 * the version it ran before runs on.
 */
export class WorkerDeployments {
  private readonly running = new Map<string, CloudDeployment>();
  private readonly refused = new Map<string, { d: CloudDeployment; error: string }>();
  private readonly modules: DeploymentStore;
  private readonly warn: RateLimitedLog;
  private seen = -1;
  /** the deployments as of its last look */
  private wanted = new Map<string, CloudDeployment>();
  private looking?: Promise<void>;

  constructor(
    private readonly wf: Workflow,
    private readonly store: ClusterStore,
    private readonly chain: CloudChain,
    private readonly log: Logger,
  ) {
    this.modules = new DeploymentStore(wf.stateDir);
    this.warn = new RateLimitedLog(log);
  }

  /** what it runs and refused */
  current(): WorkerReport {
    const r: WorkerReport = { kernels: {}, refused: {}, seq: this.seen };
    for (const [name, d] of this.running) r.kernels[name] = versionOf(d);
    for (const [name, x] of this.refused) r.refused[name] = { version: versionOf(x.d), error: x.error };
    return r;
  }

  /** what it runs and refused, for a person */
  describe(): string {
    return describeReport(this.current(), this.wanted);
  }

  /** what it runs and refused, for its registration */
  report(): string {
    return encodeReport(this.current());
  }

  /** one look, unless one is under way: what a timer calls */
  poll(): Promise<void> {
    return (this.looking ??= this.sync()
      .catch((e: Error) => this.warn.warn('deployments', `cannot read the cluster's deployments: ${e.message}`))
      .finally(() => (this.looking = undefined)));
  }

  /** Brings the kernels it runs in line with the cluster's deployments. */
  async sync(): Promise<void> {
    const seq = await deploymentsSeq(this.store.deployments);
    if (seq === this.seen) return;
    const wanted = (this.wanted = await cloudDeployments(this.store));
    for (const [name, d] of wanted) {
      if (same(this.running.get(name), d)) continue;
      try {
        const path = await this.modules.putModule(await cloudModule(this.store, d.hash));
        await this.chain.deploy(deployedFunction(d, name, path, 'cloud'), d.freshState);
        const was = this.running.get(name);
        this.running.set(name, d);
        this.refused.delete(name);
        this.log.about(name).info(oneLine(`deployed function ${quoted(name)} runs kernel ${d.hash.slice(0, 12)}… (${d.observe.join(',')} → ${d.emit.join(',') || '(none)'})${was ? `, in place of ${was.hash.slice(0, 12)}…` : ''}`));
      } catch (e) {
        this.refused.set(name, { d, error: (e as Error).message });
        this.log.about(name).error(oneLine(`deployed function ${quoted(name)} (kernel ${d.hash.slice(0, 12)}…) not started: ${(e as Error).message}`));
      }
    }
    for (const name of [...this.running.keys()].filter((n) => !wanted.has(n))) {
      await this.chain.undeploy(name);
      this.running.delete(name);
      this.log.about(name).info(`deployed function ${quoted(name)} undeployed`);
    }
    // a refusal stands for the version refused: asked again, or for another, the worker tries again
    for (const [name, x] of this.refused) if (!same(wanted.get(name), x.d)) this.refused.delete(name);
    this.seen = seq;
  }

  async close(): Promise<void> {
    await this.looking;
  }
}
