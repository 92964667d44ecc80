import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { signalExitCode, untilSignal, type SignalledProcess } from './until-signal.ts';

/** a process to signal: its exit throws, as the real one never returns */
function fakeProcess() {
  const events = new EventEmitter();
  const proc = Object.assign(events, {
    exit: (code: number): never => {
      throw Object.assign(new Error('exit'), { code });
    },
  }) as unknown as SignalledProcess & EventEmitter;
  return proc;
}

describe('untilSignal', () => {
  it('on SIGTERM says what the clean stop does and how to stop at once, naming SIGTERM; a second exits 143 saying what it cut short', () => {
    const proc = fakeProcess();
    const said: string[] = [];
    const stop = untilSignal('serve', { process: proc, say: (l) => said.push(l), stopping: () => 'draining', cutShort: () => 'the drain' });
    proc.emit('SIGTERM', 'SIGTERM');
    expect(stop.signal.aborted).toBe(true);
    expect(said).toEqual(['stopping on SIGTERM: draining (send SIGTERM again, or Ctrl-C, to stop at once)']);
    // what a command interrupted while it dials exits with (cli/main.ts)
    expect(signalExitCode()).toBe(143);
    expect(() => proc.emit('SIGTERM', 'SIGTERM')).toThrow(expect.objectContaining({ code: 143 }));
    expect(said[1]).toBe('SIGTERM again: stopped at once (exit 143), cutting short the drain');
  });

  it('on Ctrl-C says "Ctrl-C again"; a second Ctrl-C exits 130', () => {
    const proc = fakeProcess();
    const said: string[] = [];
    untilSignal('worker', { process: proc, say: (l) => said.push(l), stopping: () => 'handing over' });
    proc.emit('SIGINT', 'SIGINT');
    expect(said).toEqual(['stopping on SIGINT: handing over (Ctrl-C again to stop at once)']);
    expect(() => proc.emit('SIGINT', 'SIGINT')).toThrow(expect.objectContaining({ code: 130 }));
    expect(said[1]).toBe('SIGINT again: stopped at once (exit 130), cutting short the clean stop');
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
  });

  it('says nothing on the first signal without a stopping text, and is deaf once disposed', () => {
    const proc = fakeProcess();
    const said: string[] = [];
    const stop = untilSignal('alerts', { process: proc, say: (l) => said.push(l) });
    stop.dispose();
    proc.emit('SIGINT', 'SIGINT');
    expect(stop.signal.aborted).toBe(false);
    expect(said).toEqual([]);
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });
});
