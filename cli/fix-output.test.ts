import { describe, expect, it } from 'vitest';
import { later, QUIC, TOKEN, testConfig } from '../testing/zipper-harness.ts';
import { Zipper } from '../zipper/zipper.ts';
import { lostFixes, openFixOutput, planFixOutput } from './fix-output.ts';

describe('lostFixes', () => {
  it('says only what is known: not acknowledged is not the same as not arrived; dropped from the spool is', () => {
    expect(lostFixes({ unacked: 0, dropped: 0, refused: 0, waited: 3 }, 200)).toBeUndefined();
    expect(lostFixes({ unacked: 200, dropped: 0, refused: 0, waited: 10_000 }, 200)).toBe('200 of 200 fixes not acknowledged by the zipper within 10000 ms (--ack-timeout): whether they reached it is not known');
    expect(lostFixes({ unacked: 5, dropped: 1_200, refused: 0, waited: 10_000 }, 20_000)).toBe(
      '5 of 20,000 fixes not acknowledged by the zipper within 10000 ms (--ack-timeout): whether they reached it is not known; 1,200 of 20,000 fixes dropped from a full spool: they never reached the zipper',
    );
  });
});

describe('the status of a run that sends to a zipper', () => {
  it('says closed once the run closed cleanly, not reconnecting', async () => {
    const [, listen, urlOf] = QUIC;
    const z = later(await Zipper.start(testConfig(listen, [])));
    const values = { zipper: urlOf(z), token: TOKEN, 'cert-hash': z.tls.certHash, tag: 'gps', 'ack-timeout': '5000' };
    const output = await openFixOutput(values, planFixOutput(values), 'fix-output-test', new AbortController());
    await output.emit([{ deviceId: 'veh-1', t: Date.UTC(2026, 0, 1), lon: 7.42, lat: 43.73 }]);
    expect(output.status()).toMatch(/^ · connected, [01] unacked$/);
    expect(lostFixes(await output.close(), 1)).toBeUndefined();
    expect(output.status()).toBe(' · closed');
  });
});
