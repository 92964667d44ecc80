import { describe, expect, it } from 'vitest';
import { parseWorkflow } from '../workflows/load.ts';
import { liveSourceOf, topicFilter } from './live-source.ts';

const wf = (extra: string) =>
  parseWorkflow(`name: m\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16, alerts: 20 }\nfunctions:\n  - { name: out, observe: [alerts], sink: mqtt, params: { topic: "fleet/{kind}/x-{deviceId}" } }\n  - { name: where, observe: [gps], sink: mqtt, params: { topic: false, positions: fleet/where } }\n${extra}`, 'm.yaml', {});

describe('where the page takes its live data', () => {
  it('makes an MQTT filter of a topic template', () => {
    expect(topicFilter('geoflux/alerts/{kind}/{detect}/{deviceId}')).toBe('geoflux/alerts/+/+/+');
    expect(topicFilter('fleet/{kind}/x-{deviceId}')).toBe('fleet/+/+');
  });

  it("subscribes to the topics the sinks publish, on the embedded broker's WebSocket", () => {
    expect(liveSourceOf(wf(''), 'ws://127.0.0.1:8083')).toEqual({ url: 'ws://127.0.0.1:8083', alerts: ['fleet/+/+'], positions: ['fleet/where'] });
  });

  it("uses an external broker's WebSocket: its own URL, or the one dashboard.mqtt names, else says why not", () => {
    expect(liveSourceOf(wf('mqtt: { url: wss://broker.example/mqtt }\n'))).toMatchObject({ url: 'wss://broker.example/mqtt' });
    expect(liveSourceOf(wf('mqtt: { url: mqtts://broker.example }\ndashboard: { mqtt: wss://broker.example:8084 }\n'))).toMatchObject({ url: 'wss://broker.example:8084' });
    expect(liveSourceOf(wf('mqtt: { url: mqtts://broker.example }\n'))).toEqual({ problem: expect.stringMatching(/^the workflow publishes to mqtts:\/\/broker\.example, which a browser cannot reach .*set dashboard\.mqtt/) });
  });

  it('says there is none when the workflow publishes nothing', () => {
    const none = parseWorkflow('name: m\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16 }\n', 'm.yaml', {});
    expect(liveSourceOf(none)).toEqual({ problem: expect.stringMatching(/^this workflow publishes nothing over MQTT/) });
  });
});
