import { describe, expect, it } from 'vitest';
import { expiresAt, expiryWarning } from './cert-expiry.ts';
import { selfSignedTls } from './tls.ts';

describe('the zipper certificate’s end, said before clients are refused', () => {
  it('is quiet while over two days are left, warns under two days, and says so once it expired', async () => {
    const { cert } = await selfSignedTls(['127.0.0.1'], 13);
    const end = expiresAt(cert);
    expect(end - Date.now()).toBeGreaterThan(12 * 86_400_000);
    expect(expiryWarning(cert, true, end - 3 * 86_400_000)).toBeUndefined();
    expect(expiryWarning(cert, true, end - 36 * 3_600_000)).toMatch(/^the zipper's self-signed certificate expires .* \(in 1\.5 days\): clients that pin it .* will be refused after that\. Restarting serve makes a new one/);
    expect(expiryWarning(cert, true, end - 5 * 3_600_000)).toMatch(/\(in 5 h\)/);
    expect(expiryWarning(cert, false, end + 1000)).toMatch(/^the zipper's certificate \(the workflow's tls:\) expired .*: clients .* are refused now\. Replace its files and restart serve$/);
  });
});
