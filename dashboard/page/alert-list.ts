import { clock, el } from './dom.ts';

/** A geofence, roam or hotspot alert as the page reads it off MQTT. */
export type Alert =
  | { kind: 'geofence'; detect: string; deviceId: string; time: string; fence: { id: string; name: string }; point: [number, number] }
  | { kind: 'roam'; detect: string; deviceId: string; time: string; point: [number, number]; other: { deviceId: string; distance: number } }
  | { kind: 'hotspot'; detect: string; time?: string; cell: { id: string }; z: number; count: number; window?: { end: string } };

const KEEP = 200;

/**
 * The scrolling list of alerts, newest first: time, vehicle, fence (or the other vehicle, or hot cell), event. Rows arriving
 * between two frames are added in one go, and only the latest 200 are kept in the page.
 */
export class AlertList {
  private pending: Alert[] = [];
  total = 0;

  constructor(private readonly body: HTMLTableSectionElement) {}

  add(a: Alert): void {
    this.total++;
    this.pending.push(a);
  }

  /** puts the pending rows in; called once a frame */
  flush(): void {
    if (!this.pending.length) return;
    const rows = document.createDocumentFragment();
    for (const a of this.pending.slice(-KEEP).reverse()) rows.append(row(a));
    this.pending = [];
    this.body.prepend(rows);
    while (this.body.rows.length > KEEP) this.body.deleteRow(-1);
  }
}

function row(a: Alert): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.className = `alert ${a.kind} ${a.detect}`;
  if (a.kind === 'geofence') tr.append(el('td', clock(a.time)), el('td', a.deviceId), el('td', a.fence.name || a.fence.id), el('td', a.detect, `event ${a.detect}`));
  else if (a.kind === 'roam') tr.append(el('td', clock(a.time)), el('td', a.deviceId), el('td', `${a.other.deviceId} · ${Math.round(a.other.distance)} m`), el('td', a.detect, `event ${a.detect}`));
  else tr.append(el('td', clock(a.window?.end ?? a.time ?? Date.now())), el('td', '—'), el('td', `cell ${a.cell.id} · z ${a.z.toFixed(1)}, ${a.count} slow`), el('td', a.detect === 'hot' ? 'hot' : 'cooled', `event ${a.detect}`));
  return tr;
}
