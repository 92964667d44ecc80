import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { CLOUD_BRIDGE } from '../cluster/cluster-options.ts';
import { quoted } from '../codecs/control-characters.ts';
import { IsolatedKernel } from '../kernels/host/isolated-kernel.ts';
import type { Logger } from '../log/logger.ts';
import { RateLimitedLog } from '../log/rate-limited-log.ts';
import { StateWriteError } from '../transport/state-files.ts';
import { didYouMean } from '../workflows/errors.ts';
import { MAX_INSTANCES, type Workflow, type WorkflowFunction } from '../workflows/schema.ts';
import { functionNameProblem } from '../workflows/function-name.ts';
import type { ControlReply, ControlRequest, DeployRequest, FunctionInfo, LogsRequest } from '../zipper/control.ts';
import type { LogsSince } from './function-logs.ts';
import { deployedFunction as functionOf, DeploymentStore, instancesOf, sha256, type Deployment } from './deployment-store.ts';
import { versionedName } from './versioned-name.ts';
import { parkFunction, wakeFunction, type Parked } from './park.ts';
import { replaceFunction, ReplaceRefused } from './replace.ts';
import { Autoscale, DEFAULT_AUTOSCALE, type AutoscaleRule } from './autoscale.ts';
import { Autoscaling } from './autoscaling.ts';
import { threadInstances } from './scale-instances.ts';
import { notAModule } from '../kernels/host/compile.ts';
import { ScaleToZero } from './scale-to-zero.ts';
import { startFunction, stopFunction, type ServedWorkflow } from './serve-workflow.ts';
import type { CloudDeployments } from './cloud-deployments.ts';
import { CloudRefused } from './cloud-refused.ts';
import { restoreServedState } from './saved-state.ts';

/**
 * Functions deployed while serve runs (`geoflux deploy`): each request is verified before anything running
 * changes (name, tags, the module's hash, the ABI conformance suite with the given params, in a thread kept
 * for checks), then saved to the state folder, pinned by hash, for the next start, and only then does the
 * function join the zipper's set and its instances start (a start that fails takes it out of the file
 * again). An undeploy is saved before the function stops. So a state folder that cannot be written refuses
 * the request with nothing changed: what runs is what the next start brings back. Requests are taken one at
 * a time.
 */

/** seconds a `--min 0` function may go without a frame before it is scaled to zero, unless `--idle` says */
export const DEFAULT_IDLE = 60;

interface Running {
  d: Deployment;
  /** the function that runs it, under the zipper's name for its version */
  f: WorkflowFunction;
  /** with `--min 0`: when it parks and wakes */
  zero?: ScaleToZero;
  /** what it left while parked, for its wake */
  parked?: Parked;
  /** with `--max` above its floor: when it gets an instance more or fewer */
  auto?: Autoscaling;
  /** ticks the scalers, one change at a time */
  timer?: NodeJS.Timeout;
  /** the tick in progress (a park, a scale change): a replace or undeploy waits for it */
  ticking?: Promise<void>;
}

/** ms the conformance suite may take on a deployed module before it is refused as hanging */
const CHECK_TIMEOUT = 30_000;

/** why a deploy or undeploy was refused, for /metrics (`geoflux_deploy_refused_total`) */
export type DeployRefusal = 'name' | 'tags' | 'module' | 'bounds' | 'conformance' | 'start' | 'replace' | 'unknown_function' | 'cloud' | 'error';

/** a name too long to be one, as a refusal quotes it */
const shortened = (name: string) => (name.length > 32 ? `${name.slice(0, 32)}…` : name);

class Refused extends Error {
  constructor(
    readonly reason: DeployRefusal,
    message: string,
  ) {
    super(message);
  }
}

export class Deployments {
  private readonly store: DeploymentStore;
  /** by deployment name; `f.name` is the zipper's name for the version that runs (`name@2` after a replace) */
  private readonly running = new Map<string, Running>();
  private queue: Promise<unknown> = Promise.resolve();
  /** requests refused, by reason */
  private readonly refused = new Map<DeployRefusal, number>();
  private readonly warn: RateLimitedLog;
  /** the conformance suite's thread, kept while deploys come */
  private readonly checker: IsolatedKernel;

  private constructor(
    private readonly wf: Workflow,
    private readonly served: ServedWorkflow,
    private readonly log: Logger,
    /** `--where cloud`, when the workflow has a cluster */
    private readonly cloud: CloudDeployments | undefined,
  ) {
    this.store = new DeploymentStore(wf.stateDir);
    this.warn = new RateLimitedLog(log);
    this.checker = IsolatedKernel.checker({ timeout: CHECK_TIMEOUT, wasi: 'node', baseDir: wf.dir });
  }

  /**
   * The control channel, when the workflow has one: the deployments saved by earlier runs (`saved`, read by
   * serve before anything started) are started again from their pinned modules (one that cannot be is said
   * and left out, not fatal to serve).
   */
  static async restore(wf: Workflow, served: ServedWorkflow, saved: Deployment[], log: Logger): Promise<Deployments | undefined> {
    // the cluster's side (the NATS client) loads only for a workflow with a cluster
    const cloud = wf.cluster && new (await import('./cloud-deployments.ts')).CloudDeployments({ ...wf, cluster: wf.cluster }, log);
    const ds = new Deployments(wf, served, log, cloud);
    if (!wf.control) {
      if (saved.length) log.warn(`${saved.length} deployed function${saved.length > 1 ? 's are' : ' is'} saved in ${wf.stateDir}, but the workflow has no control: section: not started (${saved.map((d) => d.name).join(', ')})`);
      return undefined;
    }
    for (const d of saved) {
      try {
        await ds.start(d, await ds.store.pinnedModule(d.hash));
        await restoreServedState(wf, served, ds.running.get(d.name)!.f, log);
        log.about(d.name).info(`deployed function "${d.name}" is back (kernel ${d.hash.slice(0, 12)}…)`);
      } catch (e) {
        log.about(d.name).error(`deployed function "${d.name}" could not start again, left out: ${(e as Error).message}`);
      }
    }
    served.zipper.control = (req) => ds.handle(req);
    served.zipper.onHold = (fn) => void [...ds.running.values()].find((r) => r.f.name === fn)?.zero?.held();
    return ds;
  }

  /** the deployed functions, as workflow functions (for the closing order) */
  functions(): WorkflowFunction[] {
    return [...this.running.values()].map((r) => r.f);
  }

  /** the state of each deployed function scaled to zero, which no instance holds: what serve's clean stop saves of it */
  parkedStates(): { fn: string; states: Uint8Array[] }[] {
    // one being woken has its state in its new instance, which saves it as it closes
    return [...this.running.values()].flatMap((r) => (r.parked && r.zero?.state === 'parked' ? [{ fn: r.f.name, states: r.parked.states }] : []));
  }

  /** Resolves once no function of `names` is being woken from zero (a wake begun before serve's stop: it closes them only then). */
  async wakesDone(names: Set<string>): Promise<void> {
    await Promise.allSettled([...this.running.values()].filter((r) => names.has(r.f.name)).map((r) => r.zero?.waking));
  }

  /** what the `--min 0` functions have done, by deployment name (for /metrics) */
  scaling(): { name: string; scaler: ScaleToZero }[] {
    return [...this.running].flatMap(([name, r]) => (r.zero ? [{ name, scaler: r.zero }] : []));
  }

  /** what the autoscaled functions have done, by deployment name (for /metrics) */
  autoscaling(): { name: string; scaler: Autoscaling }[] {
    return [...this.running].flatMap(([name, r]) => (r.auto ? [{ name, scaler: r.auto }] : []));
  }

  /** Stops parking, waking and scaling (serve stops). */
  close(): void {
    for (const r of this.running.values()) {
      clearInterval(r.timer);
      r.zero?.stop();
    }
    void this.checker.close();
    this.warn.flush();
  }

  private handle(req: ControlRequest): Promise<ControlReply> {
    // a follower asks every second: never behind a deploy that waits for its instances or workers
    if (req.op === 'logs') return this.answer(req);
    const next = this.queue.then(() => this.answer(req));
    this.queue = next.catch(() => {});
    return next;
  }

  private async answer(req: ControlRequest): Promise<ControlReply> {
    try {
      if (req.op === 'deploy') return { ok: true, message: await this.deploy(req) };
      if (req.op === 'undeploy') return { ok: true, message: await this.undeploy(req.name) };
      if (req.op === 'logs') return { ok: true, message: '', logs: await this.logs(req) };
      return { ok: true, message: '', ...(await this.list()) };
    } catch (e) {
      const reason = e instanceof Refused ? e.reason : e instanceof ReplaceRefused ? 'replace' : e instanceof CloudRefused ? 'cloud' : 'error';
      this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
      // a state folder that cannot be written (a full disk) is the operator's to mend: its path and errno say how
      // about a function here, `geoflux logs` shows it there (a name that is none, the request's own, is not filed)
      const about = 'name' in req && this.here().includes(req.name) ? req.name : undefined;
      if (reason === 'error') (about ? this.log.about(about) : this.log).error(`${req.op} failed: ${e instanceof StateWriteError ? e.message : ((e as Error).stack ?? e)}`);
      else this.warn.warn(reason, `${req.op}${'name' in req ? ` ${JSON.stringify(req.name)}` : ''} refused (${reason}): ${(e as Error).message}`, about);
      return { ok: false, error: (e as Error).message };
    }
  }

  /** the requests refused so far, by reason (for /metrics) */
  refusedSamples(): { labels: { reason: DeployRefusal }; value: number }[] {
    return [...this.refused].map(([reason, value]) => ({ labels: { reason }, value }));
  }

  private async deploy(req: DeployRequest): Promise<string> {
    const wasm = new Uint8Array(req.wasm);
    const hash = sha256(wasm);
    if (hash !== req.hash) throw new Refused('module', `the module arrived with SHA-256 ${hash}, not the ${req.hash} it was sent with`);
    if (req.where === 'cloud') {
      if (!this.cloud) throw new Refused('cloud', `--where cloud: workflow "${this.wf.name}" (${this.wf.file}) has no cluster: section, so it has no workers to run it`);
      this.checkRequest(req);
      return this.cloud.deploy({ ...req, wasm }, (path) => this.verify(req.name, path, req.params ?? {}), [...this.running.keys()]);
    }
    const asked: Deployment = { name: req.name, hash, observe: req.observe, emit: req.emit ?? [], params: req.params ?? {}, min: req.min, max: req.max, ...(req.min === 0 ? { idle: req.idle ?? DEFAULT_IDLE } : {}) };
    // the same deploy again (a script run twice) changes nothing and succeeds; anything else about a running
    // name (its module, params or tags) is a new version, which replaces it
    const current = this.running.get(req.name);
    if (current && JSON.stringify({ ...current.d, version: undefined }) === JSON.stringify(asked)) return `function "${asked.name}" already runs kernel ${hash}`;
    const d: Deployment = current ? { ...asked, version: (current.d.version ?? 1) + 1 } : asked;
    this.checkRequest(req);
    // one name, one place: undeploy could not tell an edge's deployment from the cluster's
    if (!current && (await this.cloud?.has(req.name))) throw new Refused('name', `--name "${req.name}" is deployed to the cluster's workers (--where cloud): choose another, or undeploy that one first`);
    const path = await this.store.putModule(wasm);
    const t0 = performance.now();
    let t1 = t0;
    let replaced: string | undefined;
    // the list still names this module: it is kept, or the next start finds a deployment without it
    let listed = false;
    try {
      await this.verify(req.name, path, d.params);
      t1 = performance.now();
      await this.save({ name: d.name, d });
      try {
        if (current) replaced = await this.replace(current, d, path, req.freshState === true);
        else await this.start(d, path);
      } catch (e) {
        await this.save().catch((w: Error) => {
          listed = true;
          this.log.about(d.name).error(`function "${d.name}" did not start, yet the state folder still lists it as deployed (${w.message})`);
        });
        throw e;
      }
    } catch (e) {
      // a module no deployment uses is not kept
      if (!listed && ![...this.running.values()].some((r) => r.d.hash === hash)) await rm(path, { force: true });
      if (e instanceof ReplaceRefused) throw new Refused('replace', `function "${d.name}": ${e.message}`);
      throw e;
    }
    if (current && ![...this.running.values()].some((r) => r.d.hash === current.d.hash)) await this.store.dropModule(current.d.hash);
    const ms = (a: number, b: number) => `${Math.round(b - a)} ms`;
    return `function "${d.name}" runs kernel ${hash} (${d.observe.join(',')} → ${d.emit.join(',') || '(none)'}, ${instancesOf(d)} instance${instancesOf(d) > 1 ? 's' : ''}; checked in ${ms(t0, t1)}, started in ${ms(t1, performance.now())})${replaced ?? ''}`;
  }

  private checkRequest(req: DeployRequest): void {
    const { wf } = this;
    const nameProblem = functionNameProblem(req.name);
    if (nameProblem) throw new Refused('name', `--name ${quoted(shortened(String(req.name)))} ${nameProblem}`);
    if (wf.functions.some((f) => f.name === req.name)) throw new Refused('name', `--name "${req.name}" is a function of the workflow ${wf.file}: choose another`);
    if (req.name === CLOUD_BRIDGE) throw new Refused('name', `--name "${req.name}" is the name of the edge's own bridge to the cluster: choose another`);
    const tags = Object.keys(wf.tags);
    const checkTags = (flag: string, ts: string[]) => {
      for (const t of ts) if (!(t in wf.tags)) throw new Refused('tags', `--${flag}: workflow "${wf.name}" declares no tag ${quoted(String(t))}${didYouMean(t, tags)} (it has: ${tags.join(', ')})`);
      // merged, the same deploy written twice would read as another version
      const twice = ts.find((t, i) => ts.indexOf(t) !== i);
      if (twice !== undefined) throw new Refused('tags', `--${flag} names "${twice}" twice`);
    };
    if (!req.observe?.length) throw new Refused('tags', '--observe must name at least one tag');
    checkTags('observe', req.observe);
    checkTags('emit', req.emit ?? []);
    const loop = req.emit?.find((t) => req.observe.includes(t));
    if (loop) throw new Refused('tags', `--emit: "${loop}" is also observed by this function (a loop)`);
    if (!(req.wasm instanceof Uint8Array) || req.wasm.length === 0) throw new Refused('module', 'no module in the request');
    const notWasm = notAModule(req.wasm);
    if (notWasm) throw new Refused('module', `the module sent: ${notWasm}`);
    if (!Number.isInteger(req.min) || !Number.isInteger(req.max) || req.min < 0 || req.max < Math.max(1, req.min)) throw new Refused('bounds', `--min ${req.min} --max ${req.max}: need 0 ≤ min ≤ max and max ≥ 1`);
    if (req.max > MAX_INSTANCES) throw new Refused('bounds', `--max ${req.max}: a function has at most ${MAX_INSTANCES} instances, as a workflow's \`instances:\` (each may take up to 64 MiB of WebAssembly memory, and past one a host thread they share the threads: more memory, not more speed)`);
  }

  /** The ABI conformance suite with the deploy's params, in the checker's thread: bad params fail it as they fail a start. */
  private async verify(name: string, path: string, params: Record<string, unknown>): Promise<void> {
    let results;
    try {
      results = await this.checker.checkOn(path, params);
    } catch (e) {
      throw new Refused('conformance', `function "${name}": ${(e as Error).message}`);
    }
    const failed = results.filter((r) => !r.ok);
    if (failed.length) throw new Refused('conformance', `function "${name}": the module fails ${failed.length} of ${results.length} ABI conformance checks (docs/kernel-abi.md):\n${failed.map((r) => `  ✗ ${r.check}${r.detail ? `: ${r.detail}` : ''}`).join('\n')}`);
  }

  /**
   * A new version of a running deployment (another module, params or tags) takes over from it without loss
   * (serve/replace.ts); the record changes only once it has. Returns what the deploy's answer adds.
   */
  private async replace(old: Running, d: Deployment, path: string, fresh: boolean): Promise<string> {
    const f = functionOf(d, versionedName(d.name, d.version), path);
    // a version scaled to zero has its state outside any instance: back in one first, to be handed over
    await this.unwatch(old);
    await old.zero?.held();
    let r;
    try {
      r = await replaceFunction(this.wf, this.served, this.log.about(d.name), old.f, f, fresh);
    } catch (e) {
      this.watch(old);
      throw e;
    }
    this.running.set(d.name, this.watch({ d, f }));
    const was = old.d.hash === d.hash ? 'the same kernel with other settings' : `kernel ${old.d.hash.slice(0, 12)}…`;
    const state = { moved: 'its state handed over', none: 'no state to hand over (the running version held none)', fresh: 'starting with empty state (--fresh-state)' }[r.state];
    return `; replaced ${was}, ${state}, frames held ${Math.round(r.heldMs)} ms during the switch`;
  }

  private async start(d: Deployment, path: string): Promise<void> {
    const f = functionOf(d, versionedName(d.name, d.version), path);
    const { zipper } = this.served;
    zipper.addFunction(f);
    try {
      await startFunction(this.wf, f, this.served, this.log.about(d.name), (e) => new Refused('start', `function "${d.name}" could not start: ${e.message}`));
    } catch (e) {
      await stopFunction(this.served, f.name, 0);
      zipper.removeFunction(f.name);
      throw e;
    }
    this.running.set(d.name, this.watch({ d, f }));
  }

  /**
   * The deployment's scalers and their ticks: with `--min 0` it parks after its idle period and wakes on its
   * next frame (serve/scale-to-zero.ts); with `--max` above its floor it gets an instance more or fewer by
   * its backlog (serve/autoscale.ts). One tick at a time, so a park and a scale change never overlap.
   */
  private watch(r: Running): Running {
    const { zipper } = this.served;
    // its scalers' lines (scaled to zero, started again, scaled up) are the function's: `geoflux logs` shows them
    const log = this.log.child(`function ${r.d.name}`).about(r.d.name);
    const load = () => zipper.functionLoad().find((l) => l.name === r.f.name);
    r.zero = r.d.min === 0 ? this.scaleToZero(r, log, () => (load()?.unacked ?? 0) > 0) : undefined;
    r.auto =
      r.d.max > instancesOf(r.d)
        ? new Autoscaling({
            rule: new Autoscale(this.rule, { min: r.d.min, max: r.d.max }, Date.now),
            host: threadInstances(this.wf, this.served, log, r.f),
            backlog: () => (load()?.unacked ?? 0) + (load()?.waiting ?? 0),
            log,
          })
        : undefined;
    if (!r.zero && !r.auto) return r;
    const tick = async () => {
      await r.zero?.tick();
      await r.auto?.tick((r.zero?.state ?? 'running') === 'running');
    };
    const period = Math.min(r.auto ? Math.min(AUTOSCALE_SAMPLE, this.rule.upAfterMs / 4) : 1000, r.zero ? ((r.d.idle ?? DEFAULT_IDLE) * 1000) / 4 : Infinity);
    r.timer = setInterval(() => {
      r.ticking ??= tick().finally(() => (r.ticking = undefined));
    }, period);
    r.timer.unref();
    return r;
  }

  /** Stops the deployment's ticks, once the one in progress is done. */
  private async unwatch(r: Running): Promise<void> {
    clearInterval(r.timer);
    await r.ticking;
  }

  /** the autoscale rule, the defaults with what the workflow's `control.autoscale` changes */
  private get rule(): AutoscaleRule {
    const o = this.wf.control?.autoscale ?? {};
    return { upBacklog: o.backlog ?? DEFAULT_AUTOSCALE.upBacklog, upAfterMs: o.up === undefined ? DEFAULT_AUTOSCALE.upAfterMs : o.up * 1000, idleAfterMs: o.idle === undefined ? DEFAULT_AUTOSCALE.idleAfterMs : o.idle * 1000 };
  }

  /** `--min 0`: parks the function after its idle period and wakes it on its next frame. */
  private scaleToZero(r: Running, log: Logger, busy: () => boolean): ScaleToZero {
    const { zipper } = this.served;
    const idleMs = (r.d.idle ?? DEFAULT_IDLE) * 1000;
    return new ScaleToZero({
      idleMs,
      clock: Date.now,
      lastActive: () => zipper.lastFrameAt(r.f.name),
      busy,
      park: async () => {
        r.parked = await parkFunction(this.served, r.f);
        log.info(`scaled to zero after ${idleMs / 1000} s without a frame`);
      },
      wake: async () => {
        await wakeFunction(this.wf, this.served, log, r.f, r.parked!);
        r.parked = undefined;
      },
      log,
    });
  }

  private async undeploy(name: string): Promise<string> {
    const r = this.running.get(name);
    const fromCluster = !r && !this.wf.functions.some((f) => f.name === name) ? await this.cloud?.undeploy(name) : undefined;
    if (fromCluster && 'done' in fromCluster) return fromCluster.done;
    if (!r) {
      const deployed = [...this.running.keys(), ...(fromCluster?.have ?? [])];
      const what = this.wf.functions.some((f) => f.name === name) ? `"${name}" is a function of the workflow file, not a deployed one` : `no deployed function "${name}"${didYouMean(name, deployed)}`;
      throw new Refused('unknown_function', what);
    }
    await this.save({ name });
    try {
      await this.unwatch(r);
      // parked: its host lets its kernel's prepared params go
      r.parked?.kernel?.forget();
      await stopFunction(this.served, r.f.name);
    } catch (e) {
      // it still runs: the list says so again, or the next start would drop a function that ran
      await this.save().catch((w: Error) => this.log.about(name).error(`function "${name}" still runs, yet the state folder no longer lists it as deployed (${w.message})`));
      throw e;
    }
    this.served.zipper.removeFunction(r.f.name);
    this.running.delete(name);
    if (![...this.running.values()].some((x) => x.d.hash === r.d.hash)) await this.store.dropModule(r.d.hash);
    return `function "${name}" undeployed`;
  }

  /** a function's recent lines, this serve's: a cloud function's are in its workers' logs */
  private async logs(req: LogsRequest): Promise<LogsSince> {
    const here = this.here();
    if (here.includes(req.name)) return this.served.logs.since(req.name, req.after);
    if (this.wf.functions.some((f) => f.name === req.name) || (await this.cloud?.has(req.name))) throw new Refused('unknown_function', `function "${req.name}" runs on the cluster's workers: its lines are in their logs (geoflux worker)`);
    throw new Refused('unknown_function', `no function "${req.name}"${didYouMean(req.name, here)} (it has: ${here.join(', ') || 'none'})`);
  }

  /** the functions that run in this serve: the workflow's own, and those deployed */
  private here(): string[] {
    return [...this.wf.functions.filter((f) => f.where !== 'cloud').map((f) => f.name), ...this.running.keys()];
  }

  /** the deployments that run, or as they will once `change.name` runs `change.d` (no `d`: once it is gone) */
  private save(change?: { name: string; d?: Deployment }): Promise<void> {
    const all = new Map([...this.running].map(([name, r]) => [name, r.d]));
    if (change?.d) all.set(change.name, change.d);
    else if (change) all.delete(change.name);
    return this.store.save([...all.values()]);
  }

  /** this serve's functions, and the cluster's where the workflow has one (a note instead when it cannot be reached) */
  private async list(): Promise<{ functions: FunctionInfo[]; note?: string }> {
    const here = this.listHere();
    if (!this.cloud) return { functions: here };
    try {
      return { functions: [...here, ...(await this.cloud.list())] };
    } catch (e) {
      return { functions: here, note: `the cluster's functions are not listed: ${(e as Error).message}` };
    }
  }

  private listHere(): FunctionInfo[] {
    const load = new Map(this.served.zipper.functionLoad().map((l) => [l.name, l.instances]));
    const info = (name: string, f: WorkflowFunction, origin: FunctionInfo['origin'], d?: Deployment): FunctionInfo => ({ name, origin, hash: d?.hash, observe: f.observe, emit: f.emit, instances: load.get(f.name) ?? 0, ...(d ? { min: d.min, max: d.max } : {}) });
    return [
      ...this.wf.functions.filter((f) => f.where !== 'cloud').map((f) => ({ ...info(f.name, f, 'workflow'), runs: f.kernel ? basename(f.kernel) : f.run })),
      ...[...this.running].map(([name, r]) => info(name, r.f, 'deployed', r.d)),
    ];
  }
}


/** ms between samples of an autoscaled function's backlog: eight in the 2 s a scale-up waits */
const AUTOSCALE_SAMPLE = 250;

