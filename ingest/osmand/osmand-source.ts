import type { Source } from '../../source/connect-source.ts';
import type { SourceContext } from '../../source/source-module.ts';
import { aborted, FixIntake } from '../fix-intake.ts';
import { listenHttp, sameSecret, type DeviceRequest, type HttpAnswer } from '../http-intake.ts';
import { DEFAULT_PORTS, listenAddress } from '../ingest-params.ts';
import { decodeJson, decodeQuery } from './osmand-decode.ts';

/**
 * `run: builtin:osmand`: Traccar Client's and OsmAnd's HTTP protocol (osmand-decode.ts), on `port` (default
 * 5055, Traccar's). Answers 200 to a fix taken, 400 with the reason to one that is not (a phone that gets
 * 400 drops the fix rather than resend it forever), 401 to a device not let in. Auth (all optional, any
 * combination): `devices`, the ids allowed; `keys`, a key per device id, sent as `?key=`; `token`, one
 * shared secret sent as `?token=` or `Authorization: Bearer`. The protocol itself has no auth: these ride
 * in the URL the phone is given, so serve it behind TLS (a reverse proxy) off a trusted network.
 */

export interface OsmandAuth {
  devices?: Set<string>;
  keys?: Map<string, string>;
  token?: string;
}

/** why a device's request is not let in; undefined when it is */
export function authProblem(auth: OsmandAuth, deviceId: string, req: DeviceRequest): string | undefined {
  if (auth.token !== undefined) {
    const given = req.url.searchParams.get('token') ?? /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!given || !sameSecret(given, auth.token)) return 'a wrong or missing token';
  }
  if (auth.devices && !auth.devices.has(deviceId)) return `device "${deviceId}" is not in devices`;
  if (auth.keys) {
    const key = auth.keys.get(deviceId);
    const given = req.url.searchParams.get('key');
    if (key === undefined || !given || !sameSecret(given, key)) return `device "${deviceId}" has no key or sent a wrong one`;
  }
  return undefined;
}

export function osmandAuth(params: Record<string, unknown>): OsmandAuth {
  return {
    devices: params.devices ? new Set((params.devices as unknown[]).map(String)) : undefined,
    keys: params.keys ? new Map(Object.entries(params.keys as Record<string, unknown>).map(([id, k]) => [id, String(k)])) : undefined,
    token: params.token as string | undefined,
  };
}

/** The answer to one request: decode, let in, take. */
export function osmandHandler(intake: FixIntake, auth: OsmandAuth, now: () => number = Date.now): (req: DeviceRequest) => HttpAnswer {
  return (req) => {
    if (req.method !== 'GET' && req.method !== 'POST') return { status: 405, body: 'GET or POST\n' };
    const json = /^application\/json/i.test(req.headers['content-type'] ?? '');
    // a form POST carries the query in its body, as Traccar reads it when the URL has none
    const query = req.url.searchParams.size === 0 && req.body && !json ? new URLSearchParams(req.body) : req.url.searchParams;
    const d = json ? decodeJson(req.body) : decodeQuery(query, now());
    if ('error' in d) {
      intake.refuse('malformed', d.error);
      return { status: 400, body: `${d.error}\n` };
    }
    const denied = authProblem(auth, d.fix.deviceId, req);
    if (denied) {
      intake.refuse('auth', denied);
      return { status: 401, body: 'not allowed\n' };
    }
    const bad = intake.take(d.fix);
    return bad ? { status: 400, body: `${bad.message}\n` } : { status: 200 };
  };
}

/** serve starts once the listeners are bound (source-module.ts) */
export const listens = true;

export default async function osmand(source: Source, ctx: SourceContext): Promise<void> {
  const intake = new FixIntake(source, ctx, 'osmand', ctx.params.tag as string | undefined);
  const http = await listenHttp(listenAddress(ctx.params, DEFAULT_PORTS.osmand), osmandHandler(intake, osmandAuth(ctx.params)), ctx.signal, ctx.log, (why) => intake.refuse('malformed', why));
  ctx.listening?.();
  await aborted(ctx.signal);
  await http.closed;
  intake.close();
}
