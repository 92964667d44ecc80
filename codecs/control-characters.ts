/**
 * The control characters, as a regex character class's body: C0 (NUL, tab, newline… U+0000–U+001F), DEL and
 * C1 (U+007F–U+009F), and the invisible ones that steer how text shows: zero-width spaces and joiners,
 * the bidirectional marks, embeddings, overrides and isolates, the line and paragraph separators, the
 * byte order mark (U+200B–U+200F, U+2028–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF). MQTT says a topic
 * should carry none of the first (NUL is forbidden outright), and a log line or a terminal shows any of
 * them as something else or acts on them: a right-to-left override in a source's name turns the rest of its
 * log line around.
 */
const INVISIBLE = '\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff';
export const CONTROL_CHARACTERS = `\\u0000-\\u001f\\u007f-\\u009f${INVISIBLE}`;

const CONTROL = new RegExp(`[${CONTROL_CHARACTERS}]`);
// the control characters but tab and newline, and U+FFFD (a byte that was no UTF-8)
const UNPRINTABLE = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${INVISIBLE}\\ufffd]`, 'g');

const hex = (c: string, digits: number) => c.charCodeAt(0).toString(16).padStart(digits, '0');

/**
 * A message as text a terminal shows, whatever it quotes: a binary file's first bytes in a parse error would
 * otherwise reach the terminal raw (control codes, and U+FFFD for every byte that is no UTF-8), and so would
 * a record's own fields in a log line or a printed alert (`\u001b[2J` clears the screen). Tabs and newlines
 * are the message's own.
 */
export const printable = (s: string): string => s.replace(UNPRINTABLE, (c) => (c.charCodeAt(0) > 0xff ? `\\u${hex(c, 4)}` : `\\x${hex(c, 2)}`));

/**
 * A message that must stay one line: printable, and its newlines escaped too (`\n`). What a record, a device
 * or a peer sent (a device id `"x\n2026-… ERROR [zipper] …"`) would otherwise start a line of its own that
 * reads as the program's. Per-record and per-peer warnings (`RateLimitedLog`) and a printed alert go through it;
 * `printable` keeps newlines for the messages that are several lines on purpose (serve's banner, a stack).
 */
export const oneLine = (s: string): string => printable(s).replace(/\n/g, '\\n');

/**
 * JSON text as a terminal shows it, and still the same JSON: JSON.stringify escapes C0 but leaves DEL, C1
 * (U+009B is ESC [ to many terminals) and the invisible ones raw, which this escapes as `\uXXXX`, JSON's own
 * escape. A JSON line printed for a user (`builtin:printer`, `geoflux alerts --json`) goes through it.
 */
export const printableJson = (json: string): string => json.replace(UNPRINTABLE, (c) => `\\u${hex(c, 4)}`);

/**
 * A name quoted for a message: JSON's quoting escapes C0 (`\u001b`), and DEL and C1, which JSON leaves raw
 * (a terminal may take U+009B for ESC [), are made printable (`\x9b`).
 */
export const quoted = (name: string): string => printable(JSON.stringify(name));

/**
 * Why a name that ends up in topics, log lines and terminals (a device id, a client's name) cannot be one,
 * undefined when it can: the one rule for write(), the device listeners and the zipper's handshake.
 */
export function controlCharacterProblem(what: string, name: string): string | undefined {
  const control = CONTROL.exec(name);
  if (!control) return undefined;
  const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `${what} ${quoted(name)} has a control character (U+${code}), which topics and logs cannot show`;
}
