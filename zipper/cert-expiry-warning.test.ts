import { describe, expect, it } from 'vitest';
import { tapLogLines } from '../log/logger.ts';
import { certHashOf } from '../transport/cert-hash.ts';
import { issueCertificate } from '../transport/certificate.ts';
import { later, testConfig } from '../testing/zipper-harness.ts';
import { Zipper } from './zipper.ts';

describe('a zipper whose certificate is near its end', () => {
  it('says so when it starts (and hourly after), before clients are refused', async () => {
    const { cert, key } = await issueCertificate({ subject: 'CN=geoflux self-signed', hosts: ['127.0.0.1'], purpose: 'server', notAfter: new Date(Date.now() + 5 * 3_600_000) });
    const lines: string[] = [];
    const stop = tapLogLines((l) => lines.push(l.line));
    try {
      later(await Zipper.create(testConfig(['memory://expiring'], []), { tls: { cert, key, certHash: certHashOf(cert), selfSigned: true } }));
    } finally {
      stop();
    }
    expect(lines.filter((l) => l.includes(' WARN '))).toEqual([expect.stringMatching(/the zipper's self-signed certificate expires .* \(in 5 h\): clients that pin it/)]);
  });
});
