import { afterEach, describe, expect, it, vi } from 'vitest';
import { RejectedError } from '../client/client.ts';
import { ServeWentAwayError } from '../client/control-client.ts';
import { explainControlFailure } from './control-failure.ts';

const refusal = () => new RejectedError('zipper quic://127.0.0.1:9000 rejected control "geoflux-control": bad control token for "geoflux-control"');
const told = (e: Error, values: Parameters<typeof explainControlFailure>[1], req?: Parameters<typeof explainControlFailure>[2]) => {
  try {
    explainControlFailure(e, values, req);
  } catch (thrown) {
    return (thrown as Error).message;
  }
  throw new Error('explainControlFailure returned');
};

describe('what a failed control command tells its user', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('a refused control token: where the token came from and which flag to pass, never the token', () => {
    vi.stubEnv('GEOFLUX_CONTROL_TOKEN', '');
    expect(told(refusal(), {})).toMatch(/bad control token for "geoflux-control"; no --token was given, so the demo workflow's default control token was sent: pass --token <the workflow's control.token> \(or set GEOFLUX_CONTROL_TOKEN\)$/);
    expect(told(refusal(), { token: 'my-s3cret' })).toMatch(/; the --token given is not the workflow's control.token$/);
    vi.stubEnv('GEOFLUX_CONTROL_TOKEN', 'env-s3cret');
    const fromEnv = told(refusal(), {});
    expect(fromEnv).toMatch(/; \$GEOFLUX_CONTROL_TOKEN \(sent, as no --token was given\) is not the workflow's control.token: pass --token/);
    expect(fromEnv).not.toContain('s3cret');
    // other refusals are the zipper's to explain
    expect(told(new RejectedError('workflow "x" has no control channel'), {})).toBe('workflow "x" has no control channel');
  });

  it('a deploy or undeploy cut off before its answer may or may not have happened; a read says so alone', () => {
    const gone = () => new ServeWentAwayError('serve went away before it answered (quic://127.0.0.1:9000)');
    expect(told(gone(), {}, { op: 'undeploy', name: 'mid2' })).toBe('serve went away before it answered (quic://127.0.0.1:9000); the undeploy of "mid2" may or may not have happened — check with `geoflux functions`');
    expect(told(gone(), {}, { op: 'functions' })).toBe('serve went away before it answered (quic://127.0.0.1:9000)');
  });
});
