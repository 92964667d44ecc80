import { describe, expect, it } from 'vitest';
import { DEFAULT_TOPIC, topicFor } from './topic-template.ts';

describe('topicFor', () => {
  it.each([
    [{ kind: 'geofence', detect: 'enter', deviceId: 'veh-007', fence: { id: '3', name: 'Monte-Carlo' } }, DEFAULT_TOPIC, 'geoflux/alerts/geofence/enter/veh-007'],
    [{ kind: 'hotspot', detect: 'hot', cell: { id: '12:40' } }, DEFAULT_TOPIC, 'geoflux/alerts/hotspot/hot/12:40'],
    [{ kind: 'geofence', detect: 'exit', deviceId: 'veh-1', fence: { id: 'yard' } }, 'fleet/{fence.id}/{detect}', 'fleet/yard/exit'],
    [{ kind: 'speeding', deviceId: 'a/b+#' }, DEFAULT_TOPIC, 'geoflux/alerts/speeding/_/a_b__'],
    [{ kind: 'x', deviceId: 'v', fence: { id: 'f' } }, 'a/{fence}/{missing.deep}', 'a/_/_'],
  ])('%j with %s → %s', (event, template, topic) => {
    expect(topicFor(template, event)).toBe(topic);
  });
});
