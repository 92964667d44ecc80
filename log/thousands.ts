/**
 * A number as `toLocaleString('en')` writes it (1,234,567.891: commas every three digits, at most `digits`
 * fraction digits, trailing zeros dropped), without ICU: the first `toLocaleString` of a process maps about
 * 5 MB of ICU's locale data and 1 MB of its code into RSS, and serve's threads log counts (docs/serverless.md,
 * Footprint: ICU). Ties round as `toFixed` does (on the double's exact value), where ICU may round up.
 */
export function thousands(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  // toFixed writes 1e21 and above as an exponent; doubles that large are whole
  const [whole, fraction = ''] = abs >= 1e21 ? [BigInt(abs).toString()] : abs.toFixed(digits).split('.');
  const kept = fraction.replace(/0+$/, '');
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  return `${sign}${whole.replace(/\B(?=(\d{3})+$)/g, ',')}${kept ? `.${kept}` : ''}`;
}
