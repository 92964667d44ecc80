import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { certHashOf } from './cert-hash.ts';
import { makeFolder, writeAtomically } from './state-files.ts';
import type { ServerTls } from './tls.ts';

export const CERT_FILE = 'zipper-cert.pem';
export const KEY_FILE = 'zipper-key.pem';

const DAY = 86_400_000;

/** Why the stored pair cannot be served again, or undefined when it can. */
function unusable(certPem: string, keyPem: string, hosts: string[], renewDays: number, now: number): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'its key does not match it';
  } catch (e) {
    return `it cannot be read (${(e as Error).message})`;
  }
  const left = (Date.parse(cert.validTo) - now) / DAY;
  if (Date.parse(cert.validFrom) > now) return `it is not valid before ${cert.validFrom}`;
  if (left < renewDays) return left < 0 ? `it expired ${cert.validTo}` : `it expires in ${left.toFixed(1)} days`;
  const missing = hosts.filter((h) => !(isIP(h) ? cert.checkIP(h) : cert.checkHost(h)));
  if (missing.length) return `it does not name ${missing.join(', ')}`;
  return undefined;
}

/**
 * The zipper's self-signed certificate, kept in `dir` so that a restart serves the same one (and pinned clients
 * reconnect). A stored one is served again while it is valid for more than `renewDays` days and names every
 * host; otherwise `make()` makes a new one, which replaces it. The key is written readable by its owner only.
 */
export async function storedCertificate(
  dir: string,
  hosts: string[],
  renewDays: number,
  make: () => Promise<ServerTls>,
  log: (msg: string) => void = () => {},
  now = Date.now(),
): Promise<ServerTls> {
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')].map((p) => p.catch(() => undefined)));
  if (cert !== undefined && key !== undefined) {
    const why = unusable(cert, key, hosts, renewDays, now);
    if (!why) return { cert, key, certHash: certHashOf(cert), selfSigned: true };
    log(`replacing the self-signed certificate in ${dir}: ${why}`);
  }
  const made = await make();
  await makeFolder(dir, 'the state folder');
  await writeAtomically(keyPath, made.key, 0o600);
  await writeAtomically(certPath, made.cert, 0o644);
  log(`stored a new self-signed certificate in ${dir} (SHA-256 ${made.certHash})`);
  return made;
}
