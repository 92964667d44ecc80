import { checkParams, type ParamProblem } from '../sinks/param-problem.ts';

/**
 * The params of each device listener, checked when the workflow loads (a problem is reported at its
 * file:line like any other). The sources read them with the defaults named here.
 */

type Rule = (v: unknown, all: Record<string, unknown>) => string | undefined;

const isPort = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const port: Rule = (v) => (isPort(v) ? undefined : 'a TCP/UDP port: a whole number from 0 to 65535');
const text: Rule = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string');
const ids: Rule = (v) => (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' || typeof x === 'number') ? undefined : 'a list of device ids');
const stringMap =
  (what: string): Rule =>
  (v) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string' || typeof x === 'number') ? undefined : `a map of ${what}`;
const hostPort: Rule = (v) => (typeof v === 'string' && /^[^\s:]+:\d{1,5}$/.test(v) ? undefined : 'host:port (gpsd listens on 127.0.0.1:2947)');

const COMMON = { host: text, port, tag: text };

export const DEFAULT_PORTS = { osmand: 5055, teltonika: 5027 } as const;
/** gpsd's own port */
export const GPSD_DEFAULT = '127.0.0.1:2947';

export const INGEST_PARAM_CHECKS: Record<string, (p: Record<string, unknown>) => ParamProblem[]> = {
  osmand: (p) => checkParams(p, { ...COMMON, devices: ids, keys: stringMap('device id to key'), token: text }),
  teltonika: (p) => checkParams(p, { ...COMMON, imeis: ids }),
  nmea: (p) =>
    checkParams(p, {
      host: text,
      tag: text,
      gpsd: hostPort,
      tcp: port,
      udp: port,
      deviceId: text,
    }),
  owntracks: (p) =>
    checkParams(p, {
      ...COMMON,
      mqtt: (v) => (v === true || v === false || (typeof v === 'string' && /^(mqtts?|wss?):\/\/[^/]/.test(v)) ? undefined : "true (the workflow's broker), false, or a broker URL mqtt://host:port"),
      topic: text,
      username: text,
      password: text,
      users: stringMap('user name to password (HTTP basic auth)'),
    }),
};

/** a listener's address from its params: 127.0.0.1 unless `host` says otherwise (0.0.0.0 for devices on the network) */
export const listenAddress = (params: Record<string, unknown>, defaultPort: number): { host: string; port: number } => ({
  host: (params.host as string | undefined) ?? '127.0.0.1',
  port: (params.port as number | undefined) ?? defaultPort,
});
