import type { Logger } from '../log/logger.ts';
import type { Autoscale } from './autoscale.ts';
import type { InstanceHost } from './scale-instances.ts';

/**
 * A deployed function autoscaled between `--min` and `--max`: each tick samples its backlog for the rule
 * (serve/autoscale.ts) and, when the rule says so, has its host add or remove an instance, devices moved
 * (serve/scale-instances.ts); counts what it did, for /metrics.
 */
export class Autoscaling {
  ups = 0;
  downs = 0;
  /** devices whose state moved, over all changes */
  moved = 0;
  /** ms frames were held during changes, summed, and the last change's */
  heldMsTotal = 0;
  lastHeldMs = 0;

  constructor(
    private readonly o: {
      rule: Autoscale;
      host: InstanceHost;
      /** frames its instances hold unacknowledged, and frames waiting for one */
      backlog: () => number;
      log: Logger;
    },
  ) {}

  get instances(): number {
    return this.o.host.count();
  }

  /** One sample; a change when the rule asks for one. `running` false (scaled to zero, or waking): no sample, the windows start over. */
  async tick(running = true): Promise<void> {
    const { rule, host, log } = this.o;
    if (!running) return rule.restart();
    const n = host.count();
    const backlog = this.o.backlog();
    const step = rule.decide(backlog, n);
    if (!step) return;
    try {
      const change = step > 0 ? await host.add() : await host.remove();
      if (step > 0) this.ups++;
      else this.downs++;
      this.moved += change.moved;
      this.lastHeldMs = change.heldMs;
      this.heldMsTotal += change.heldMs;
      const why = step > 0 ? `a backlog of ${backlog} frames over ${n}` : 'idle';
      log.info(`${step > 0 ? 'scaled up' : 'scaled down'} to ${n + step} instance${n + step > 1 ? 's' : ''} (${why}): ${change.moved} devices' state moved, frames held ${Math.round(change.heldMs)} ms`);
    } catch (e) {
      // the rule waits a whole window again before the next attempt, so this is said at most that often
      log.error(`could not scale ${step > 0 ? 'up' : 'down'}, stays at ${n} instance${n > 1 ? 's' : ''}: ${(e as Error).message}`);
    }
    rule.restart();
  }
}
