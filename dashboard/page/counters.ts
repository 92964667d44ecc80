import type { DashboardStatus } from '../status.ts';
import { el } from './dom.ts';

const fmt = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const rate = (n: number) => (n >= 100 ? fmt.format(n) : n.toFixed(1));

/**
 * The counters panel from `GET /api/status`: rates from two readings' totals, sink figures as they are,
 * a row per function. Says so when serve stops answering rather than showing stale figures as current.
 */
export class Counters {
  private prev?: DashboardStatus;

  constructor(private readonly fields: { fixes: HTMLElement; alertsPerSecond: HTMLElement; published: HTMLElement; buffered: HTMLElement; dropped: HTMLElement; functions: HTMLTableSectionElement; stale: HTMLElement }) {}

  show(s: DashboardStatus): void {
    const f = this.fields;
    f.stale.hidden = true;
    if (this.prev && s.at > this.prev.at) {
      const dt = (s.at - this.prev.at) / 1000;
      f.fixes.textContent = rate((s.fixesIn - this.prev.fixesIn) / dt);
      f.alertsPerSecond.textContent = rate((s.alerts - this.prev.alerts) / dt);
    }
    this.prev = s;
    f.published.textContent = s.sinks ? fmt.format(s.sinks.published) : '—';
    f.buffered.textContent = s.sinks ? fmt.format(s.sinks.buffered) : '—';
    f.dropped.textContent = s.sinks ? fmt.format(s.sinks.dropped) : '—';
    f.functions.replaceChildren(
      ...s.functions.map((fn) => {
        const tr = document.createElement('tr');
        const name = el('th', fn.name) as HTMLTableCellElement;
        name.scope = 'row';
        tr.append(name, el('td', String(fn.instances)), el('td', fmt.format(fn.backlog)), el('td', String(fn.restarts)));
        return tr;
      }),
    );
  }

  unreachable(): void {
    this.fields.stale.hidden = false;
  }
}

/** Polls the status every `every` ms; one request at a time, so a slow serve is not piled onto. */
export function pollStatus(every: number, counters: Counters): void {
  const tick = async () => {
    try {
      const r = await fetch('/api/status', { cache: 'no-store' });
      if (!r.ok) throw new Error(String(r.status));
      counters.show((await r.json()) as DashboardStatus);
    } catch {
      counters.unreachable();
    }
    setTimeout(tick, every);
  };
  void tick();
}
