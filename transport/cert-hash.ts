import { createHash, X509Certificate } from 'node:crypto';

/** Certificate hashes, as pins name them: the SHA-256 of the DER-encoded certificate, lowercase hex. */

export const sha256Hex = (der: Uint8Array): string => createHash('sha256').update(der).digest('hex');

/** the hash of a PEM certificate (the first one in the PEM) */
export const certHashOf = (certPem: string): string => sha256Hex(new X509Certificate(certPem).raw);

/** Accepts hex with or without colons, any case, or base64; returns lowercase hex. */
export function normaliseCertHash(hash: string): string {
  const hex = hash.replace(/[:\s]/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return hex.toLowerCase();
  const b = Buffer.from(hash, 'base64');
  if (b.length === 32) return b.toString('hex');
  throw new Error(`certHash must be a SHA-256 digest (64 hex digits or base64), got "${hash}"`);
}
