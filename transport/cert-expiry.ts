import { X509Certificate } from 'node:crypto';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** when the certificate (PEM) stops being valid, in ms since the epoch */
export const expiresAt = (certPem: string): number => Date.parse(new X509Certificate(certPem).validTo);

/**
 * What serve says of its certificate `now`: a warning once under `warnMs` is left, or undefined. A gateway left
 * alone for weeks outlives the self-signed certificate (13 days, for browsers' pins), and clients are refused
 * only at their next dial, far from the cause.
 */
export function expiryWarning(certPem: string, selfSigned: boolean, now: number, warnMs = 2 * DAY): string | undefined {
  const end = expiresAt(certPem);
  const left = end - now;
  if (left > warnMs) return undefined;
  const when = left <= 0 ? `expired ${new Date(end).toISOString()}: clients that pin it (--cert-hash) or trust it as their ca are refused now` : `expires ${new Date(end).toISOString()} (in ${left < DAY ? `${Math.ceil(left / HOUR)} h` : `${(left / DAY).toFixed(1)} days`}): clients that pin it (--cert-hash) or trust it as their ca will be refused after that`;
  return selfSigned
    ? `the zipper's self-signed certificate ${when}. Restarting serve makes a new one (its new SHA-256 is printed, for the clients' --cert-hash); for a gateway that runs for weeks, give the workflow tls: { cert, key }`
    : `the zipper's certificate (the workflow's tls:) ${when}. Replace its files and restart serve`;
}
