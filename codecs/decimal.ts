/**
 * A number written in decimal, as devices and query strings write them (`-7.42`, `43.7`, `1e3`), or NaN.
 * `Number()` alone also takes `0x2b` (43), `0b1`, `Infinity` and whitespace, so a typo or a hostile value
 * passed for a coordinate instead of being refused.
 */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export const readDecimal = (text: string): number => (DECIMAL.test(text) ? Number(text) : NaN);
