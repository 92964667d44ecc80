import { describe, expect, it } from 'vitest';
import { InterruptedError } from './client.ts';
import { connectSource } from '../source/connect-source.ts';
import { makePki } from '../transport/testdata/pki.ts';
import { recordingLog } from '../transport/testdata/recording-log.ts';
import { selfSignedTls } from '../transport/tls.ts';
import { TrustError } from '../transport/trust.ts';
import { later, TRANSPORTS } from '../testing/zipper-harness.ts';
import { waitFor } from '../testing/wait-for.ts';
import { freePort } from '../testing/free-port.ts';
import { Zipper } from '../zipper/zipper.ts';

/** What a source is told when it cannot trust the zipper, or the zipper will not trust it. */

const pki = await makePki();
const NETWORK = TRANSPORTS.filter(([name]) => name !== 'memory');
const config = (listen: string[], clientCa?: string) => ({ name: `c-${Math.random().toString(36).slice(2, 8)}`, listen, tags: { gps: 16 }, functions: [], clientCa });
const fix = (t: number) => ({ deviceId: 'veh-1', t, lon: 7.42, lat: 43.73 });


describe.each(NETWORK)('%s', (_name, listen, urlOf) => {
  it('fails at once with a TrustError when the certificate does not match, rather than retrying until connectTimeout', async () => {
    const z = later(await Zipper.start(config(listen)));
    // were it retried, this would not settle for ten minutes
    const refused = connectSource({ name: 'gw', zipper: urlOf(z), certHash: 'ab'.repeat(32), connectTimeout: 600_000 });
    await expect(refused).rejects.toThrow(TrustError);
    await expect(refused).rejects.toThrow(`certificate hash mismatch: expected ${'ab'.repeat(32)}, got ${z.tls.certHash}`);
  });

  it('says once, at error level, that a restarted zipper presents another certificate, and keeps trying', { timeout: 60_000 }, async () => {
    const first = await Zipper.start(config(listen));
    const url = urlOf(first);
    const log = recordingLog();
    const src = later(await connectSource({ name: 'gw', zipper: url, certHash: first.tls.certHash, maxBackoff: 100, log }));
    await first.kill();
    // the same address, a new self-signed certificate (no state directory kept the old one)
    later(await Zipper.start({ ...config([url]) }, { tls: await selfSignedTls() }));
    const tries = () => log.lines.filter((l) => l.startsWith('debug reconnect failed') && l.includes('certificate hash mismatch')).length;
    await waitFor(() => tries() >= 2, { what: () => `more reconnect attempts (${log.lines.join(' | ')})`, ms: 30_000 });
    const errors = log.lines.filter((l) => l.startsWith('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^error could not (connect to|open webtransport session) .*: certificate hash mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}; retrying/);
    expect(src.stats().connected).toBe(false);
  });

  it('with clientCa on the zipper, connects a source that has a certificate under it, and refuses one without, at once', async () => {
    const z = later(await Zipper.start(config(listen, pki.root.cert)));
    const trust = { zipper: urlOf(z), certHash: z.tls.certHash, connectTimeout: 600_000 };
    const src = later(await connectSource({ name: 'gw', ...trust, cert: pki.client.cert + pki.intermediate.cert, key: pki.client.key }));
    src.write('gps', fix(1));
    expect(await src.flush(10_000)).toBe(true);
    await expect(connectSource({ name: 'stranger', ...trust })).rejects.toThrow(TrustError);
    await expect(connectSource({ name: 'stranger', ...trust, cert: pki.strangerClient.cert, key: pki.strangerClient.key })).rejects.toThrow(
      /the zipper refused our client certificate/,
    );
    await expect.poll(() => z.stats().listeners.find((l) => l.url === urlOf(z))?.clientCertRefused).toBe(2);
  });
});

it.each(NETWORK)('over %s, refuses a malformed pin or a CA without a certificate at once, before any dial', async (name) => {
  const zipper = `${name}://127.0.0.1:${await freePort()}${name === 'webtransport' ? '/geoflux' : ''}`;
  // were it retried, this would not settle for ten minutes
  const malformed = connectSource({ name: 'gw', zipper, certHash: 'abc', connectTimeout: 600_000 });
  await expect(malformed).rejects.toThrow(TrustError);
  await expect(malformed).rejects.toThrow('certHash must be a SHA-256 digest (64 hex digits or base64), got "abc"');
  await expect(connectSource({ name: 'gw', zipper, ca: 'not a PEM', connectTimeout: 600_000 })).rejects.toThrow('the ca option holds no PEM certificate');
});

it('refuses a zipper address that is no URL, or of no transport it has, at once, before any dial', async () => {
  // were it retried, this would not settle for ten minutes
  await expect(connectSource({ name: 'gw', zipper: 'foo://127.0.0.1:9', insecure: true, connectTimeout: 600_000 })).rejects.toThrow(
    'unsupported scheme "foo:" in foo://127.0.0.1:9 (use quic://, webtransport://, memory://, port://)',
  );
  await expect(connectSource({ name: 'gw', zipper: '127.0.0.1:9', insecure: true, connectTimeout: 600_000 })).rejects.toThrow('is not a URL');
});

it('says how long it tried, and what to check, when nothing answers at the address', async () => {
  const port = await freePort();
  const failed = connectSource({ name: 'gw', zipper: `quic://127.0.0.1:${port}`, insecure: true, connectTimeout: 1500 });
  // one dial's own timeout is not the wait: the whole wait is said, and only it
  await expect(failed).rejects.toThrow(/^could not reach quic:\/\/127\.0\.0\.1:\d+: no answer to \d+ dials in \d+\.\d s \(is geoflux serve running there\?\)$/);
});

it('stops dialling at once when its signal is aborted (Ctrl-C), however long it would have tried', async () => {
  const port = await freePort();
  const ac = new AbortController();
  const failed = connectSource({ name: 'gw', zipper: `quic://127.0.0.1:${port}`, insecure: true, connectTimeout: 600_000, signal: ac.signal });
  ac.abort();
  await expect(failed).rejects.toThrow(InterruptedError);
  await expect(failed).rejects.toThrow(new RegExp(`^interrupted while connecting to quic://127\\.0\\.0\\.1:${port} \\(\\d+\\.\\d s, not connected\\)$`));
});
