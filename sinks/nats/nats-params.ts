import { checkParams, isCount, type ParamProblem } from '../param-problem.ts';

const text = (what: string) => (v: unknown) => (typeof v === 'string' && v.length > 0 ? undefined : what);

/** what a `sink: nats` function's params may say */
export const natsParamProblems = (p: Record<string, unknown>): ParamProblem[] =>
  checkParams(p, {
    url: (v) => (typeof v === 'string' && v.split(',').every((u) => /^(nats|tls):\/\/[^/]/.test(u.trim())) ? undefined : 'a NATS server URL, nats://host[:port] (several: separated by commas)'),
    subject: (v) =>
      typeof v === 'string' && /^[^\s.*>]+(\.[^\s.*>]+)*$/.test(v.replace(/\{[A-Za-z0-9_.]+\}/g, 'x'))
        ? undefined
        : 'a subject template without wildcards or empty tokens, e.g. geoflux.alerts.{kind}.{detect}.{deviceId}',
    jetstream: (v) => (typeof v === 'boolean' ? undefined : 'true (each message acknowledged by the stream that captures its subject) or false'),
    buffer: (v) => (isCount(v) ? undefined : 'messages held while the server is away: a whole number > 0'),
    user: text('a user name'),
    pass: text('a password (write ${NATS_PASSWORD} and set it in the environment)'),
    token: text('a token (write ${NATS_TOKEN} and set it in the environment)'),
    creds: text('a .creds file'),
    tls: (v) => (v !== null && typeof v === 'object' && Object.entries(v).every(([k, f]) => ['ca', 'cert', 'key'].includes(k) && typeof f === 'string') ? undefined : 'PEM files: { ca, cert, key }'),
  });
