/**
 * Aborts on the first Ctrl-C (or SIGTERM) so a command can finish cleanly: flush, close, print its summary.
 * A second one exits at once, for when finishing cleanly hangs.
 */
export function untilSignal(onSignal?: (sig: string) => void): { signal: AbortSignal; abort(): void; dispose(): void } {
  const ac = new AbortController();
  const handler = (sig: string) => {
    if (ac.signal.aborted) process.exit(130);
    onSignal?.(sig);
    ac.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    abort: () => ac.abort(),
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
