/** The default topic of an alert: one level each for what happened and to whom. */
export const DEFAULT_TOPIC = 'geoflux/alerts/{kind}/{detect}/{deviceId}';
export const DEFAULT_STATE_TOPIC = 'geoflux/state/{deviceId}';

/**
 * Fills `{field}` and `{dotted.path}` placeholders from an event. `{deviceId}` falls back to a hotspot's
 * cell id, so each cell keeps a topic of its own; anything else missing becomes `_`. Values cannot add
 * levels or wildcards: `/`, `+`, `#` and NUL become `_`.
 */
export function topicFor(template: string, event: object): string {
  let fill = compiled.get(template);
  if (!fill) compiled.set(template, (fill = compile(template)));
  return fill(event);
}

// a sink fills its one template for every alert: parsed once, not a regex replace per message
const compiled = new Map<string, (event: object) => string>();

function compile(template: string): (event: object) => string {
  const parts = template.split(/\{([A-Za-z0-9_.]+)\}/);
  // odd parts are placeholders, as their key paths
  const paths = parts.map((p, i) => (i % 2 ? p.split('.') : undefined));
  return (event) => {
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const path = paths[i];
      if (!path) {
        out += parts[i];
        continue;
      }
      let v = lookup(event, path);
      if (v === undefined && parts[i] === 'deviceId') v = lookup(event, CELL_ID);
      out += v === undefined || v === null || typeof v === 'object' || v === '' ? '_' : String(v).replace(/[/+#\0]/g, '_');
    }
    return out;
  };
}

const CELL_ID = ['cell', 'id'];

function lookup(o: unknown, path: readonly string[]): unknown {
  for (const k of path) o = o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return o;
}
