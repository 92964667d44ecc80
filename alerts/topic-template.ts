/** The default topic of an alert: one level each for what happened and to whom. */
export const DEFAULT_TOPIC = 'geoflux/alerts/{kind}/{detect}/{deviceId}';
export const DEFAULT_STATE_TOPIC = 'geoflux/state/{deviceId}';

/**
 * Fills `{field}` and `{dotted.path}` placeholders from an event. `{deviceId}` falls back to a hotspot's
 * cell id, so each cell keeps a topic of its own; anything else missing becomes `_`. Values cannot add
 * levels or wildcards: `/`, `+`, `#` and NUL become `_`.
 */
export function topicFor(template: string, event: object): string {
  return template.replace(/\{([A-Za-z0-9_.]+)\}/g, (_, path: string) => {
    let v = lookup(event, path);
    if (v === undefined && path === 'deviceId') v = lookup(event, 'cell.id');
    return v === undefined || v === null || typeof v === 'object' || v === '' ? '_' : String(v).replace(/[/+#\0]/g, '_');
  });
}

const lookup = (o: unknown, path: string): unknown => path.split('.').reduce<unknown>((x, k) => (x !== null && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), o);
