import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE_TOPIC, DEFAULT_SUBJECT, DEFAULT_TOPIC, subjectFor, topicFor } from './topic-template.ts';

describe('topicFor', () => {
  it.each([
    [{ kind: 'geofence', detect: 'enter', deviceId: 'veh-007', fence: { id: '3', name: 'Monte-Carlo' } }, DEFAULT_TOPIC, 'geoflux/alerts/geofence/enter/veh-007'],
    [{ kind: 'hotspot', detect: 'hot', cell: { id: '12:40' } }, DEFAULT_TOPIC, 'geoflux/alerts/hotspot/hot/12:40'],
    [{ kind: 'geofence', detect: 'exit', deviceId: 'veh-1', fence: { id: 'yard' } }, 'fleet/{fence.id}/{detect}', 'fleet/yard/exit'],
    [{ kind: 'speeding', deviceId: 'a/b+#' }, DEFAULT_TOPIC, 'geoflux/alerts/speeding/_/a%2Fb%2B%23'],
    [{ kind: 'x', deviceId: 'v', fence: { id: 'f' } }, 'a/{fence}/{missing.deep}', 'a/_/_'],
  ])('%j with %s → %s', (event, template, topic) => {
    expect(topicFor(template, event)).toBe(topic);
  });

  it('gives devices whose ids differ in what MQTT forbids or reserves topics of their own, which decode to the id', () => {
    const ids = ['a/b', 'a+b', 'a#b', 'a\u0000b', 'a_b', 'a%2Fb', 'a%b', 'a\nb', 'a\u0085b', 'a b', 'camión'];
    const topics = ids.map((deviceId) => topicFor(DEFAULT_STATE_TOPIC, { deviceId }));
    expect(new Set(topics).size).toBe(ids.length);
    for (const [i, topic] of topics.entries()) {
      expect(topic).toMatch(/^geoflux\/state\/[^/+#\u0000-\u001f]+$/);
      expect(decodeURIComponent(topic.slice('geoflux/state/'.length))).toBe(ids[i]);
    }
    expect(topicFor(DEFAULT_STATE_TOPIC, { deviceId: 'a%2Fb' })).toBe('geoflux/state/a%252Fb');
  });

  it('does the same for a NATS subject: no token or wildcard added, no two ids on one subject', () => {
    const ids = ['bus 7.north>*', 'bus_7_north__', 'a.b', 'a*b', 'a%2Eb', 'a\tb'];
    const subjects = ids.map((deviceId) => subjectFor(DEFAULT_SUBJECT, { kind: 'geofence', detect: 'enter', deviceId }));
    expect(subjects[0]).toBe('geoflux.alerts.geofence.enter.bus%207%2Enorth%3E%2A');
    expect(new Set(subjects).size).toBe(ids.length);
    for (const [i, s] of subjects.entries()) expect(decodeURIComponent(s.split('.').at(-1)!)).toBe(ids[i]);
  });
});
