import { DRAWN_COLOUR, ENTER_COLOUR, EXIT_COLOUR, FENCE_COLOUR, ROAD_STYLE, SPEED_STOPS, Z_STOPS } from './colours.ts';
import { el } from './dom.ts';

const swatch = (style: string, text: string) => {
  const item = el('li');
  const mark = el('span', '', 'swatch');
  mark.setAttribute('style', style);
  mark.setAttribute('aria-hidden', 'true');
  item.append(mark, el('span', text));
  return item;
};

const group = (title: string, items: HTMLElement[]) => {
  const box = el('div', '', 'legend-group');
  const list = el('ul');
  list.append(...items);
  box.append(el('h3', title), list);
  return box;
};

/** The legend, from the same colour scales the map's layers use. */
export function renderLegend(into: HTMLElement): void {
  into.append(
    group('Vehicles, by speed', SPEED_STOPS.map(([kmh, c], i) => swatch(`background:${c};border-radius:50%`, i + 1 < SPEED_STOPS.length ? `${kmh}–${SPEED_STOPS[i + 1][0]} km/h` : `${kmh}+ km/h`))),
    group('Fence events', [swatch(`border:3px solid ${ENTER_COLOUR};border-radius:50%`, 'enter (ring)'), swatch(`border:3px solid ${EXIT_COLOUR};border-radius:50%`, 'exit (ring)')]),
    group('Hot cells (Gi* z)', Z_STOPS.map(([z, c]) => swatch(`background:${c}`, `z ≥ ${z}`)).concat(swatch('background:#fd8d3c;opacity:.3', 'cooling: fades out'))),
    group('Map', [
      ...ROAD_STYLE.map(([, c, w, label]) => swatch(`background:${c};height:${Math.max(2, w)}px`, label)),
      swatch(`border:2px dashed ${FENCE_COLOUR}`, 'fence of the workflow'),
      swatch(`border:3px solid ${DRAWN_COLOUR};background:${DRAWN_COLOUR}26`, 'your fence'),
    ]),
  );
}
