import type { GeofenceEvent } from '../../kernels/browser.ts';
import { clock, el } from './dom.ts';

const KEEP = 1000;

/** The drawn fence's events as the page's kernel finds them: a row each, the exact event in its data. */
export class DrawnFenceEvents {
  count = 0;

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly counter: HTMLElement,
  ) {}

  add(events: GeofenceEvent[]): void {
    if (!events.length) return;
    const rows = document.createDocumentFragment();
    for (const e of [...events].reverse()) {
      const tr = document.createElement('tr');
      tr.className = `drawn-event ${e.detect}`;
      Object.assign(tr.dataset, { device: e.deviceId, detect: e.detect, time: e.time, lon: String(e.point[0]), lat: String(e.point[1]) });
      tr.append(el('td', clock(e.time)), el('td', e.deviceId), el('td', e.detect, `event ${e.detect}`));
      rows.append(tr);
    }
    this.body.prepend(rows);
    while (this.body.rows.length > KEEP) this.body.deleteRow(-1);
    this.count += events.length;
    this.counter.textContent = String(this.count);
  }

  clear(): void {
    this.body.replaceChildren();
    this.count = 0;
    this.counter.textContent = '0';
  }
}
