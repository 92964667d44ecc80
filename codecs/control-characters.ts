/**
 * The control characters, as a regex character class's body: C0 (NUL, tab, newline… U+0000–U+001F), DEL and
 * C1 (U+007F–U+009F). MQTT says a topic should carry none of them (NUL is forbidden outright), and a log
 * line or a terminal shows them as something else or acts on them.
 */
export const CONTROL_CHARACTERS = '\\u0000-\\u001f\\u007f-\\u009f';
