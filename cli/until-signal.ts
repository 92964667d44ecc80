import { constants } from 'node:os';

/** The part of `process` a signal handler uses: a test hands in its own, to signal and exit without ending itself. */
export interface SignalledProcess {
  on(sig: NodeJS.Signals, f: (sig: NodeJS.Signals) => void): unknown;
  off(sig: NodeJS.Signals, f: (sig: NodeJS.Signals) => void): unknown;
  exit(code: number): never;
}

export interface SignalOptions {
  /** how a line is said: serve and worker log it; by default `geoflux <command>: …` on stderr */
  say?: (line: string) => void;
  /** what the clean stop does, said on the first signal with how to stop at once; nothing is said without it */
  stopping?: () => string;
  /** what exiting at once cuts short, said in the last line a second signal prints */
  cutShort?: () => string;
  process?: SignalledProcess;
}

let received: NodeJS.Signals | undefined;

/** 128 + the signal's number, as a shell reports a command a signal ended: 130 for Ctrl-C, 143 for SIGTERM */
export const signalExitCode = (sig: NodeJS.Signals | undefined = received): number => 128 + constants.signals[sig ?? 'SIGINT'];

// a service manager sends SIGTERM: "Ctrl-C again" would tell it nothing
const stopAtOnce = (sig: NodeJS.Signals): string => (sig === 'SIGINT' ? 'Ctrl-C again to stop at once' : `send ${sig} again, or Ctrl-C, to stop at once`);

/**
 * Aborts on the first Ctrl-C (or SIGTERM) so a command can finish cleanly: flush, close, print its summary.
 * A second one exits at once, for when finishing cleanly hangs, with 128 + its number and a last line saying
 * what that cut short: without one, an operator cannot tell a forced exit from a crash.
 */
export function untilSignal(command: string, opts: SignalOptions = {}): { signal: AbortSignal; abort(): void; dispose(): void } {
  const proc = opts.process ?? process;
  const say = opts.say ?? ((line: string) => void process.stderr.write(`geoflux ${command}: ${line}\n`));
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      say(`${sig} again: stopped at once (exit ${signalExitCode(sig)}), cutting short ${opts.cutShort?.() ?? 'the clean stop'}`);
      proc.exit(signalExitCode(sig));
    }
    received = sig;
    if (opts.stopping) say(`stopping on ${sig}: ${opts.stopping()} (${stopAtOnce(sig)})`);
    ac.abort();
  };
  proc.on('SIGINT', handler);
  proc.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    abort: () => ac.abort(),
    dispose() {
      proc.off('SIGINT', handler);
      proc.off('SIGTERM', handler);
    },
  };
}
