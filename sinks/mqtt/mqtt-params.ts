import { checkParams, isCount, type ParamProblem } from '../param-problem.ts';

const template = (v: unknown, wild: RegExp) => typeof v === 'string' && v.length > 0 && !wild.test(v);

/** what a `sink: mqtt` function's params may say: topic (template), qos, retain, state (true or a template), positions, buffer */
export const mqttParamProblems = (p: Record<string, unknown>): ParamProblem[] =>
  checkParams(p, {
    topic: (v, all) =>
      v === false
        ? !all.state && !all.positions
          ? 'false publishes state or positions only: set state or positions too'
          : undefined
        : template(v, /[+#]/)
          ? undefined
          : 'a topic template without wildcards, e.g. geoflux/alerts/{kind}/{detect}/{deviceId}, or false (state only)',
    qos: (v) => (v === 0 || v === 1 || v === 2 ? undefined : 'QoS is 0, 1 or 2'),
    retain: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
    state: (v) => (typeof v === 'boolean' || template(v, /[+#]/) ? undefined : 'true (geoflux/state/{deviceId}), false, or a topic template without wildcards'),
    positions: (v) => (typeof v === 'boolean' || template(v, /[+#{}]/) ? undefined : 'true (geoflux/positions), false, or a topic without wildcards'),
    buffer: (v) => (isCount(v) ? undefined : 'messages held while the broker is away: a whole number > 0'),
  });
