import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type HandshakeFrame } from '../codecs/frame-types.ts';
import { admit, type AdmissionPolicy } from './handshake.ts';

const policy: AdmissionPolicy = { zipper: 'demo', token: 's3cret', tags: { gps: 16, alerts: 17 }, functions: new Map([['fence', ['gps']]]) };
const hs = (over: Partial<HandshakeFrame> = {}): HandshakeFrame => ({
  type: 'handshake',
  name: 'fence',
  kind: 'sfn',
  clientId: 'c1',
  token: 's3cret',
  observe: ['gps'],
  version: PROTOCOL_VERSION,
  ...over,
});

describe('admission', () => {
  it('admits a source and a declared function with the right token', () => {
    expect(admit(hs({ kind: 'source', name: 'gw', observe: [] }), policy)).toEqual({ ok: true });
    expect(admit(hs(), policy)).toEqual({ ok: true });
    expect(admit(hs({ token: 'anything' }), { ...policy, token: undefined })).toEqual({ ok: true });
  });

  it.each<[string, Partial<HandshakeFrame>, string, string]>([
    ['another protocol version', { version: PROTOCOL_VERSION + 1 }, 'version', `protocol version ${PROTOCOL_VERSION + 1} is not supported (this zipper speaks ${PROTOCOL_VERSION})`],
    // raw, they were logged as they came (`source "gw^[[2J…" connected`): a terminal acts on them
    ['a name with a control character', { name: 'gw\u001b[2J', token: 'wrong' }, 'name', 'name "gw\\u001b[2J" has a control character (U+001B), which topics and logs cannot show'],
    ['a client id with a control character', { clientId: 'c\r1' }, 'client-id', 'clientId "c\\r1" has a control character (U+000D), which topics and logs cannot show'],
    ['a wrong token', { token: 's3cre' }, 'token', 'bad token for sfn "fence"'],
    ['a kind that only zippers are', { kind: 'zipper' }, 'kind', 'client kind "zipper" cannot connect here'],
    ['no client id', { clientId: '' }, 'client-id', 'handshake has no clientId'],
    ['a function the workflow does not declare', { name: 'speeding' }, 'unknown-function', 'no function "speeding" in workflow "demo" (it has: fence)'],
    ['tags the workflow does not know', { observe: ['gsp', 'x\u0007'] }, 'unknown-tag', 'unknown tags "gsp", "x\\u0007"'],
  ])('refuses %s, saying why', (_, over, code, reason) => {
    expect(admit(hs(over), policy)).toEqual({ ok: false, code, reason });
  });

  it('admits a control client by the control token alone: not the sources\' token, and not at all without control:', () => {
    const control = { ...policy, control: 'c0ntrol' };
    const ctl = (token: string) => hs({ kind: 'control', name: 'geoflux-control', observe: [], token });
    expect(admit(ctl('c0ntrol'), control)).toEqual({ ok: true });
    expect(admit(ctl('s3cret'), control)).toEqual({ ok: false, code: 'token', reason: 'bad control token for "geoflux-control"' });
    expect(admit(ctl('s3cret'), policy)).toEqual({ ok: false, code: 'kind', reason: 'workflow "demo" has no control channel (it needs control: { token: … })' });
    expect(admit(hs({ token: 'c0ntrol' }), control)).toMatchObject({ ok: false, code: 'token' });
  });

  it('lets the workflow win over what a function asks to observe, with a warning', () => {
    expect(admit(hs({ observe: ['alerts'] }), policy)).toEqual({ ok: true, warning: 'function "fence" asks to observe [alerts] but the workflow routes [gps] to it; the workflow wins' });
  });
});
