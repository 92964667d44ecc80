import { createHash, timingSafeEqual } from 'node:crypto';
import { controlCharacterProblem, quoted } from '../codecs/control-characters.ts';
import { PROTOCOL_VERSION, type HandshakeFrame } from '../codecs/frame-types.ts';

/**
 * Admission: whether a handshake may join, decided from the frame and the workflow alone (no sockets, no
 * state), so every rule is a unit test. The zipper turns a refusal into a Rejected frame with `reason`,
 * counts it by `code`, and logs it.
 */

export interface AdmissionPolicy {
  /** the workflow's name, for messages */
  zipper: string;
  /** empty or absent: no authentication */
  token?: string;
  /** tag name → number */
  tags: Record<string, number>;
  /** function name → the tag names the workflow routes to it (and the functions deployed since) */
  functions: ReadonlyMap<string, readonly string[]>;
  /** the control channel's own token (the workflow's control.token); absent: no control clients */
  control?: string;
}

export type RefusalCode = 'version' | 'name' | 'token' | 'kind' | 'client-id' | 'unknown-function' | 'unknown-tag';

export type Verdict = { ok: true; warning?: string } | { ok: false; code: RefusalCode; reason: string };

const sha = (s: string) => createHash('sha256').update(s).digest();

/** compared as digests, in constant time: a token is not found out a byte at a time */
const tokenOk = (given: string, want: string | undefined) => !want || timingSafeEqual(sha(given), sha(want));

export function admit(hs: HandshakeFrame, p: AdmissionPolicy): Verdict {
  const no = (code: RefusalCode, reason: string): Verdict => ({ ok: false, code, reason });
  if (hs.version !== PROTOCOL_VERSION) return no('version', `protocol version ${hs.version} is not supported (this zipper speaks ${PROTOCOL_VERSION})`);
  // before the token: its refusal names the client, and a name or an id is logged from here on
  const name = controlCharacterProblem('name', hs.name);
  if (name) return no('name', name);
  const clientId = controlCharacterProblem('clientId', hs.clientId);
  if (clientId) return no('client-id', clientId);
  if (hs.kind === 'control') {
    // its own credential: a source's or a function's token deploys nothing
    if (!p.control) return no('kind', `workflow "${p.zipper}" has no control channel (it needs control: { token: … })`);
    if (!tokenOk(hs.token, p.control)) return no('token', `bad control token for "${hs.name}"`);
    return hs.clientId ? { ok: true } : no('client-id', 'handshake has no clientId');
  }
  if (!tokenOk(hs.token, p.token)) return no('token', `bad token for ${hs.kind} "${hs.name}"`);
  if (hs.kind !== 'source' && hs.kind !== 'sfn') return no('kind', `client kind ${quoted(hs.kind)} cannot connect here`);
  if (!hs.clientId) return no('client-id', 'handshake has no clientId');
  if (hs.kind === 'source') return { ok: true };
  const routed = p.functions.get(hs.name);
  if (!routed) return no('unknown-function', `no function "${hs.name}" in workflow "${p.zipper}" (it has: ${[...p.functions.keys()].join(', ') || 'none'})`);
  const unknown = hs.observe.filter((t) => !(t in p.tags));
  if (unknown.length) return no('unknown-tag', `unknown tag${unknown.length > 1 ? 's' : ''} ${unknown.map(quoted).join(', ')}`);
  if (hs.observe.length && hs.observe.join() !== routed.join()) {
    return { ok: true, warning: `function "${hs.name}" asks to observe [${hs.observe}] but the workflow routes [${routed}] to it; the workflow wins` };
  }
  return { ok: true };
}
