import { CONTROL_CHARACTERS } from '../codecs/control-characters.ts';

/** The default topic of an alert: one level each for what happened and to whom. */
export const DEFAULT_TOPIC = 'geoflux/alerts/{kind}/{detect}/{deviceId}';
export const DEFAULT_STATE_TOPIC = 'geoflux/state/{deviceId}';

/** The default NATS subject of an alert: MQTT's levels as tokens. */
export const DEFAULT_SUBJECT = 'geoflux.alerts.{kind}.{detect}.{deviceId}';

/**
 * Fills `{field}` and `{dotted.path}` placeholders from an event. `{deviceId}` falls back to a hotspot's
 * cell id, so each cell keeps a topic of its own; anything else missing becomes `_`. Values cannot add
 * levels or wildcards, and two values never share a topic: what MQTT forbids or reserves in a level (`/`,
 * `+`, `#`, NUL and the other control characters) and `%` itself are percent-encoded as UTF-8 (`a/b` is
 * `a%2Fb`, `a%2Fb` is `a%252Fb`), so `decodeURIComponent` of a level gives the value back.
 */
export const topicFor = (template: string, event: object): string => fill(template, event, MQTT_SPECIAL);

/** {@link topicFor} for a NATS subject: `.`, `*`, `>`, white space, control characters and `%` percent-encoded. */
export const subjectFor = (template: string, event: object): string => fill(template, event, NATS_SPECIAL);

const MQTT_SPECIAL = new RegExp(`[/+#%${CONTROL_CHARACTERS}]`, 'g');
const NATS_SPECIAL = new RegExp(`[.*>%\\s${CONTROL_CHARACTERS}]`, 'g');

const utf8 = new TextEncoder();
/** a character as %XX of its UTF-8 bytes (encodeURIComponent leaves `.` and `*` as they are) */
const percent = (c: string) => Array.from(utf8.encode(c), (b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');

function fill(template: string, event: object, special: RegExp): string {
  const key = special === MQTT_SPECIAL ? template : `nats:${template}`;
  let f = compiled.get(key);
  if (!f) compiled.set(key, (f = compile(template, special)));
  return f(event);
}

// a sink fills its one template for every alert: parsed once, not a regex replace per message
const compiled = new Map<string, (event: object) => string>();

function compile(template: string, special: RegExp): (event: object) => string {
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
      out += v === undefined || v === null || typeof v === 'object' || v === '' ? '_' : String(v).replace(special, percent);
    }
    return out;
  };
}

const CELL_ID = ['cell', 'id'];

function lookup(o: unknown, path: readonly string[]): unknown {
  for (const k of path) o = o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  return o;
}
