import { ignoreElements, tap, type Observable } from 'rxjs';
import { startEmbeddedBroker, type EmbeddedBroker } from '../alerts/embedded-broker.ts';
import { MqttSink } from '../alerts/mqtt-sink.ts';
import { logger, type Logger } from '../log/logger.ts';
import { importModule, startFunctionModule, type FunctionModule } from '../sfn/function-module.ts';
import type { StreamFunction } from '../sfn/connect-stream-function.ts';
import { kernelFunction } from '../sfn/kernel-function.ts';
import { connectSource, type Source } from '../source/connect-source.ts';
import type { SourceModule } from '../source/source-module.ts';
import { loadWorkflow } from '../workflows/load.ts';
import type { Workflow, WorkflowFunction } from '../workflows/schema.ts';
import { Zipper, type ZipperConfig } from '../zipper/zipper.ts';
import type { CommandSpec, Parsed } from './args.ts';

export const serveSpec: CommandSpec = {
  name: 'serve',
  usage: 'geoflux serve [workflow.yaml] [options]',
  summary:
    'Starts the zipper for a workflow: listens on every address in `listen:`, routes tags to the functions,\nruns the `host: local` functions and the `sources:` in this process, and logs what flows.',
  flags: {
    'stats-every': { type: 'string', value: 'seconds', help: 'log a traffic summary this often, 0 for never', default: '10' },
    'drain-timeout': { type: 'string', value: 'ms', help: 'on Ctrl-C, how long to wait for functions to finish what they hold', default: '5000' },
  },
  notes: ['Examples:', '  geoflux serve                      # ./workflow.yaml', '  GEOFLUX_TOKEN=s3cret geoflux serve workflows/examples/remote-sfn.yaml'],
};

export const zipperConfigOf = (wf: Workflow): ZipperConfig => ({
  name: wf.name,
  listen: wf.listen,
  tls: wf.tls,
  token: wf.auth?.token,
  tags: wf.tags,
  functions: wf.functions.map((f) => ({ name: f.name, observe: f.observe, dispatch: f.dispatch })),
});

interface SourceEntry {
  name: string;
  run: string;
  params?: Record<string, unknown>;
  /** the address the source dials; default: the zipper's first listen address */
  zipper?: string;
}

/** A running workflow: the zipper plus what it hosts. */
export interface Served {
  zipper: Zipper;
  functions: StreamFunction[];
  sources: Source[];
  sinks: MqttSink[];
  /** the embedded MQTT broker, when the workflow uses one */
  broker?: EmbeddedBroker;
  /** where the sinks publish */
  mqttUrl?: string;
  stop(): Promise<void>;
}

export async function serveWorkflow(wf: Workflow, log: Logger = logger('serve'), drainTimeout = 5000): Promise<Served> {
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
  banner(wf, zipper, log, broker);
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
          ? await importModule<FunctionModule>(f.run, wf.dir)
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
    for (const s of (wf.sources ?? []) as SourceEntry[]) {
      const mod = await importModule<SourceModule>(s.run, wf.dir, new URL('../simulators/', import.meta.url));
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

function banner(wf: Workflow, z: Zipper, log: Logger, broker?: EmbeddedBroker): void {
  const lines = [`geoflux zipper "${wf.name}" (${wf.file})`, 'listening on:'];
  for (const l of z.listeners) lines.push(`  ${l.url.padEnd(40)} ${l.detail ?? ''}`);
  lines.push(
    z.tls.selfSigned
      ? `TLS: self-signed certificate, SHA-256 ${z.tls.certHash}\n  (clients: --cert-hash ${z.tls.certHash}, or certHash in code)`
      : `TLS: certificate from ${wf.tls?.cert}, SHA-256 ${z.tls.certHash}`,
  );
  lines.push(`auth: ${wf.auth?.token ? 'token required' : 'none (no auth.token in the workflow)'}`);
  if (broker) lines.push(`MQTT: embedded broker ${broker.url}${broker.wsUrl ? `, ${broker.wsUrl} (WebSocket)` : ''}  (watch: geoflux alerts --mqtt ${broker.url})`);
  else if (wf.mqtt?.kind === 'external') lines.push(`MQTT: ${wf.mqtt.url}`);
  lines.push('tags: ' + Object.entries(wf.tags).map(([n, t]) => `${n}=${t}`).join(' '));
  lines.push('functions:');
  for (const f of wf.functions) {
    const d = f.dispatch.kind === 'partition' ? `partition by ${f.dispatch.key}` : 'round robin';
    lines.push(`  ${f.name.padEnd(16)} ${f.observe.join(',')} → ${f.emit.length ? f.emit.join(',') : '(none)'}  [${d}, ${f.host}${f.host === 'local' ? ` ×${f.instances}` : ''}]`);
  }
  log.info(lines.join('\n'));
}

/** A line a period: frames per second in and out, and anything dropped. */
function statsLine(served: Served, prev: { in: number; out: number; at: number }): string {
  const z = served.zipper;
  const s = z.stats();
  const fin = s.connections.reduce((a, c) => a + c.framesIn, 0);
  const fout = s.connections.reduce((a, c) => a + c.framesOut, 0);
  const dt = (Date.now() - prev.at) / 1000;
  const line = `${s.connections.length} connections · in ${((fin - prev.in) / dt).toFixed(0)} frames/s · out ${((fout - prev.out) / dt).toFixed(0)} frames/s · inflight ${s.inflight}${
    s.rejected || s.malformed || s.dropped ? ` · rejected ${s.rejected} malformed ${s.malformed} dropped ${s.dropped}` : ''
  }`;
  const mq = served.sinks.map((k) => k.stats()).reduce((a, b) => ({ published: a.published + b.published, buffered: a.buffered + b.buffered, dropped: a.dropped + b.dropped, connected: a.connected && b.connected }), { published: 0, buffered: 0, dropped: 0, connected: true });
  const mqtt = served.sinks.length ? ` · mqtt ${mq.connected ? '' : 'DOWN, '}${mq.published} published${mq.buffered ? `, ${mq.buffered} buffered` : ''}${mq.dropped ? `, ${mq.dropped} dropped` : ''}` : '';
  Object.assign(prev, { in: fin, out: fout, at: Date.now() });
  return line + mqtt;
}

export async function serveCommand({ values, positionals }: Parsed): Promise<void> {
  const file = positionals[0] ?? 'workflow.yaml';
  const log = logger('serve');
  const wf = await loadWorkflow(file);
  const served = await serveWorkflow(wf, log, Number(values['drain-timeout']));
  const every = Number(values['stats-every']) * 1000;
  const prev = { in: 0, out: 0, at: Date.now() };
  const timer = every > 0 ? setInterval(() => log.info(statsLine(served, prev)), every) : undefined;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) {
        log.warn('second signal: exiting now');
        process.exit(130);
      }
      stopping = true;
      log.info(`${sig}: shutting down (Ctrl-C again to force)`);
      clearInterval(timer);
      void served.stop().then(resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  const s = served.zipper.stats();
  log.info(`done: ${JSON.stringify({ accepted: s.accepted, rejected: s.rejected, malformed: s.malformed, unrouted: s.unrouted, dropped: s.dropped, tags: s.tags })}`);
}
