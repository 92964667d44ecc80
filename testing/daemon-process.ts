import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { waitFor } from './wait-for.ts';

/** A server program a test starts, kills and restarts as a crash would: a broker, nats-server. */
export interface Daemon {
  /** kills it (SIGKILL by default: a crash, not a shutdown) and resolves once it has exited */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** starts it again with the same arguments, and resolves once it is ready */
  restart(): Promise<void>;
  /** what it logged, stdout and stderr */
  output(): string;
}

/** Spawns `bin args` and resolves once `ready()` says so, failing at once, with its log, if it exits first. */
export async function startDaemon(what: string, bin: string, args: string[], ready: () => Promise<boolean>): Promise<Daemon> {
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d) => (log += d));
    c.stderr!.on('data', (d) => (log += d));
    let exited: string | undefined;
    c.once('exit', (code, signal) => (exited ??= `${what} exited (${code ?? signal}):\n${log}`));
    await waitFor(ready, { ms: 15_000, every: 50, what, abandon: () => exited });
  };
  await start();
  return {
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await gone;
    },
    restart: start,
    output: () => log,
  };
}

/** whether something accepts TCP connections on 127.0.0.1:`port`: a daemon's readiness */
export const acceptsTcp = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
