import { spawn, type ChildProcess } from 'node:child_process';
import { waitFor } from './wait-for.ts';

/**
 * `geoflux serve` as its users run it, in a process of its own (the compiled command), for tests that
 * crash, kill and restart it: what it printed, where it listens, and its exit.
 */
export interface ServeProcess {
  child: ChildProcess;
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
  /** the first network listener, its certificate hash, and the metrics URL when it has one (from the banner) */
  url: string;
  certHash: string;
  metricsUrl?: string;
  /** the dashboard's URL (its HTTP server, which also answers /v1/ queries), when the workflow has one */
  dashboardUrl?: string;
  /** Ctrl-C, and its exit status */
  stop(): Promise<number | null>;
}

export async function startServe(
  workflow: string,
  env: Record<string, string> = {},
  until = /listening on:[\s\S]*?TLS:[^\n]*SHA-256 [0-9a-f]{64}/,
  /** Node's own flags for the child (a profiler: `--cpu-prof`, `--heapsnapshot-signal=SIGUSR2`) */
  nodeArgs: string[] = [],
): Promise<ServeProcess> {
  const { child, out, exited, stop } = await startGeoflux(['serve', workflow, '--stats-every', '0'], until, env, nodeArgs);
  const url = out.stderr.match(/^\s+((?:quic|webtransport):\/\/\S+)/m)?.[1] ?? '';
  const certHash = out.stderr.match(/SHA-256 ([0-9a-f]{64})/)?.[1] ?? '';
  const metricsUrl = out.stderr.match(/metrics: (http:\/\/\S+)/)?.[1];
  const dashboardUrl = out.stderr.match(/dashboard: (http:\/\/\S+)/)?.[1];
  return {
    child,
    out,
    exited,
    url,
    certHash,
    metricsUrl,
    dashboardUrl,
    stop,
  };
}

/**
 * The compiled `geoflux <args>` in a process of its own, once it printed `until` on stderr (it failing to
 * start throws, with what it said).
 */
export async function startGeoflux(args: string[], until: RegExp, env: Record<string, string> = {}, nodeArgs: string[] = []) {
  const child = spawn(process.execPath, [...nodeArgs, 'bin/geoflux.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GEOFLUX_LOG: 'info', ...env } });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => (out.stdout += d));
  child.stderr!.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const started = await Promise.race([waitFor(() => until.test(out.stderr), { ms: 60_000, what: `geoflux ${args[0]} to print ${until}` }).then(() => true), exited.then(() => false)]);
  if (!started) throw new Error(`geoflux ${args.join(' ')} exited before it started:\n${out.stderr}`);
  /** Ctrl-C, and its exit status */
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    return exited;
  };
  return { child, out, exited, stop };
}

/** `geoflux serve` that is expected not to start: its exit status and what it said */
export async function failingServe(workflow: string, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['bin/geoflux.js', 'serve', workflow], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GEOFLUX_LOG: 'info', ...env } });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { code, stderr };
}
