import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CERT_FILE, KEY_FILE, storedCertificate } from './cert-store.ts';
import { selfSignedTls, serverTls } from './tls.ts';

/** The zipper's self-signed certificate kept in a state directory (a temporary one here). */

const DAY = 86_400_000;
const HOSTS = ['127.0.0.1', 'localhost'];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'geoflux-state-'));
  dirs.push(d);
  return join(d, '.geoflux'); // not there yet: the store makes it
}

/** stores through `storedCertificate`, counting how many certificates it had to make */
function store(dir: string, hosts = HOSTS) {
  let made = 0;
  const notes: string[] = [];
  const make = () => {
    made++;
    return selfSignedTls(hosts);
  };
  const at = (now: number) => storedCertificate(dir, hosts, 2, make, (m) => notes.push(m), now);
  return { at, made: () => made, notes };
}

describe('storedCertificate', () => {
  it('serves the same certificate on every start, and writes the key for its owner only', async () => {
    const dir = await tempDir();
    const first = await serverTls(undefined, HOSTS, { stateDir: dir });
    const second = await serverTls(undefined, HOSTS, { stateDir: dir });
    expect(second.certHash).toBe(first.certHash);
    expect(second.key).toBe(first.key);
    expect((await stat(join(dir, KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(join(dir, CERT_FILE), 'utf8')).toBe(first.cert);
  });

  it('renews a stored certificate with less than two days left, and says why', async () => {
    const dir = await tempDir();
    const s = store(dir);
    const now = Date.now();
    const first = await s.at(now);
    expect((await s.at(now + 10 * DAY)).certHash).toBe(first.certHash); // 13-day certificate, 3 days left
    const renewed = await s.at(now + 11.5 * DAY);
    expect(renewed.certHash).not.toBe(first.certHash);
    expect(s.made()).toBe(2);
    expect(s.notes.some((n) => /^replacing the self-signed certificate in .*: it expires in 1\.5 days$/.test(n))).toBe(true);
    // and the renewed one is the one stored
    expect(new X509Certificate(await readFile(join(dir, CERT_FILE), 'utf8')).fingerprint256).toBe(new X509Certificate(renewed.cert).fingerprint256);
  });

  it('replaces a certificate that does not name a host now listened on', async () => {
    const dir = await tempDir();
    const first = await store(dir).at(Date.now());
    const s = store(dir, [...HOSTS, 'zipper.example']);
    expect((await s.at(Date.now())).certHash).not.toBe(first.certHash);
    expect(s.notes[0]).toMatch(/: it does not name zipper\.example$/);
  });

  it('replaces files it cannot use: unreadable, or a key that is not the certificate', async () => {
    const dir = await tempDir();
    await store(dir).at(Date.now());
    await writeFile(join(dir, KEY_FILE), (await selfSignedTls()).key);
    const s = store(dir);
    await s.at(Date.now());
    expect(s.notes[0]).toMatch(/: its key does not match it$/);
    await writeFile(join(dir, CERT_FILE), 'garbage');
    const t = store(dir);
    await t.at(Date.now());
    expect(t.notes[0]).toMatch(/: it cannot be read/);
    expect(t.made()).toBe(1);
  });
});
