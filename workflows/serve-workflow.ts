import { ignoreElements, tap, type Observable } from 'rxjs';
import { startEmbeddedBroker, type EmbeddedBroker } from '../alerts/embedded-broker.ts';
import { MqttSink } from '../alerts/mqtt-sink.ts';
import { logger, type Logger } from '../log/logger.ts';
import { loadFunctionModule } from '../sfn/builtins/index.ts';
import type { StreamFunction } from '../sfn/connect-stream-function.ts';
import { startFunctionModule, type FunctionModule } from '../sfn/function-module.ts';
import { kernelFunction } from '../sfn/kernel-function.ts';
import { loadSourceModule } from '../simulators/builtins.ts';
import { connectSource, type Source } from '../source/connect-source.ts';
import { Zipper, type ZipperConfig } from '../zipper/zipper.ts';
import type { Workflow, WorkflowFunction } from './schema.ts';

/**
 * The composition root: a workflow, running. It starts the embedded MQTT broker (when the workflow uses
 * one), the zipper on every `listen:` address, the `host: local` functions (modules, kernels, MQTT sinks)
 * over memory://, and the `sources:`; `stop()` drains and closes them in the reverse order.
 */

export const zipperConfigOf = (wf: Workflow): ZipperConfig => ({
  name: wf.name,
  listen: wf.listen,
  tls: wf.tls,
  token: wf.auth?.token,
  tags: wf.tags,
  functions: wf.functions.map((f) => ({ name: f.name, observe: f.observe, dispatch: f.dispatch })),
});

/** A running workflow: the zipper plus what it hosts. */
export interface ServedWorkflow {
  zipper: Zipper;
  functions: StreamFunction[];
  sources: Source[];
  sinks: MqttSink[];
  /** the embedded MQTT broker, when the workflow uses one */
  broker?: EmbeddedBroker;
  /** where the sinks publish */
  mqttUrl?: string;
  /** drains what is in flight (at most `drainTimeout` ms), then closes everything */
  stop(): Promise<void>;
}

export interface ServeOptions {
  log?: Logger;
  /** on stop, how long functions may take to finish what they hold (ms, default 5000) */
  drainTimeout?: number;
  /** called once the zipper listens, before functions and sources start (serve prints its banner here) */
  onListening?: (zipper: Zipper, broker?: EmbeddedBroker) => void;
}

export async function serveWorkflow(wf: Workflow, opts: ServeOptions = {}): Promise<ServedWorkflow> {
  const log = opts.log ?? logger('serve');
  const drainTimeout = opts.drainTimeout ?? 5000;
  // the broker first: a port already taken should stop serve before anything else is up
  const broker = wf.mqtt?.kind === 'embedded' ? await startEmbeddedBroker({ host: wf.mqtt.host, port: wf.mqtt.port, wsPort: wf.mqtt.wsPort, log: logger('mqtt') }) : undefined;
  const mqttUrl = broker?.url ?? (wf.mqtt?.kind === 'external' ? wf.mqtt.url : undefined);
  let zipper: Zipper;
  try {
    zipper = await Zipper.start(zipperConfigOf(wf));
  } catch (e) {
    await broker?.close();
    throw e;
  }
  opts.onListening?.(zipper, broker);
  const functions: StreamFunction[] = [];
  const sources: Source[] = [];
  const sinks: MqttSink[] = [];
  const abort = new AbortController();
  const running: Promise<void>[] = [];
  try {
    for (const f of wf.functions.filter((f) => f.host === 'local')) {
      const mod: FunctionModule | undefined = f.sink
        ? undefined
        : f.run
          ? await loadFunctionModule(f.run, wf.dir)
          : { default: kernelFunction({ kernel: f.kernel!, params: f.params, batch: f.batch, wasi: f.wasi, timeout: f.timeout, baseDir: wf.dir }) };
      for (let i = 0; i < f.instances; i++) {
        // each sink instance has its own broker connection, made once, not per subscription
        const sink = f.sink ? mqttSink(wf, f, mqttUrl!) : undefined;
        if (sink) sinks.push(sink);
        functions.push(
          await startFunctionModule(sink ? publishTo(sink) : mod!, { name: f.name, observe: f.observe, emit: f.emit, params: f.params }, { zipper: zipper.memoryUrl, token: wf.auth?.token }),
        );
      }
      log.info(`function "${f.name}": ${f.instances} local instance${f.instances > 1 ? 's' : ''} of ${f.sink ? `an MQTT sink to ${mqttUrl}` : (f.run ?? `kernel ${f.kernel}`)}`);
    }
    const trust = { token: wf.auth?.token, certHash: zipper.tls.certHash };
    for (const s of wf.sources) {
      const mod = await loadSourceModule(s.run, wf.dir);
      const address = s.zipper ?? zipper.listeners[0].url;
      const src = await connectSource({ name: s.name, zipper: address, ...trust });
      sources.push(src);
      const slog = logger(`source ${s.name}`);
      running.push(
        mod.default(src, { name: s.name, params: s.params ?? {}, dir: wf.dir, signal: abort.signal, log: slog }).catch((e: Error) => slog.error(`stopped: ${e.message}`)),
      );
      log.info(`source "${s.name}": ${s.run} via ${address}`);
    }
  } catch (e) {
    abort.abort();
    await Promise.allSettled(sinks.map((s) => s.close(0)));
    await zipper.close(0);
    await broker?.close();
    throw e;
  }
  return {
    zipper,
    functions,
    sources,
    sinks,
    broker,
    mqttUrl,
    async stop() {
      abort.abort();
      await Promise.allSettled(running);
      await Promise.allSettled(sources.map((s) => s.close(Math.min(drainTimeout, 1000))));
      // functions leave once what they hold is handled, so they do not take the zipper's goodbye for a crash
      await zipper.drain(drainTimeout);
      await Promise.allSettled(functions.map((f) => f.close()));
      await Promise.allSettled(sinks.map((s) => s.close()));
      await zipper.close(0);
      await broker?.close();
    },
  };
}

/** A sink as a function module: every event it observes is published, nothing is emitted. */
const publishTo = (sink: MqttSink): FunctionModule => ({ default: (in$: Observable<object>) => in$.pipe(tap((e) => sink.publish(e)), ignoreElements()) });

/** A function's MQTT sink: the workflow's broker, the function's params (checked when the workflow loaded). */
function mqttSink(wf: Workflow, f: WorkflowFunction, url: string): MqttSink {
  const p = (f.params ?? {}) as { topic?: string | false; qos?: 0 | 1 | 2; retain?: boolean; state?: boolean | string; buffer?: number };
  const m = wf.mqtt?.kind === 'external' ? wf.mqtt : undefined;
  return new MqttSink({
    url,
    username: m?.username,
    password: m?.password,
    clientId: m?.clientId && `${m.clientId}-${f.name}`,
    protocolVersion: m?.protocolVersion,
    tls: m?.tls,
    ...p,
    log: logger(`sink ${f.name}`),
  });
}
