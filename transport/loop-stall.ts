/**
 * How long this process's event loop has been unable to run, as a running total (ms): one timer per process,
 * unref'd, every TICK ms, adds how much later than asked it ran, beyond FLOOR (a loop that turns is not a
 * stalled one). The idle verdict takes a peer's silence net of it: bytes the peer sent while our loop was
 * stalled (a burst of handshakes, a collection, CPU given to other processes) wait unread in the socket, and
 * that silence is ours, not the peer's. Sampled continuously, not at heartbeats, so the first long stall counts
 * as well as the later ones.
 */

const TICK = 50;
/** lateness per tick below this is the loop's ordinary jitter, not a stall */
const FLOOR = 20;

let total = 0;
let lastTick = NaN;

function tick(): void {
  const now = performance.now();
  total += Math.max(0, now - lastTick - TICK - FLOOR);
  lastTick = now;
}

/**
 * ms this process's loop has been stalled in all, as seen at `now` (performance.now()); a stall still under way
 * (the tick overdue) counts already, since timers due at once run in no promised order. Starts the meter on
 * first use: before it, nothing is known and nothing counts.
 */
export function loopStalled(now: number): number {
  if (Number.isNaN(lastTick)) {
    lastTick = now;
    setInterval(tick, TICK).unref();
  }
  return total + Math.max(0, now - lastTick - TICK - FLOOR);
}
