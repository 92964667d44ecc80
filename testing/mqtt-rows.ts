import mqtt from 'mqtt';
import { expect } from 'vitest';

/**
 * What a serve's broker publishes, per device, in order: the fixes a `raw/{deviceId}` sink passes on apart
 * from the rows functions make. For the tests that move a function's devices while fixes flow (a replace,
 * autoscaling) and account for every fix across the move.
 */

export type Row = Record<string, unknown> & { deviceId: string };

/** everything the broker at `url` publishes from now on, raw fixes and function rows apart, per device, in order */
export async function recordRows(url: string) {
  const client = await mqtt.connectAsync(url);
  const raw = new Map<string, Row[]>();
  const rows = new Map<string, Row[]>();
  const add = (m: Map<string, Row[]>, r: Row) => m.set(r.deviceId, [...(m.get(r.deviceId) ?? []), r]);
  client.on('message', (topic, payload) => {
    const r = JSON.parse(payload.toString()) as Row;
    if (topic.startsWith('raw/')) add(raw, r);
    else if (r.deviceId) add(rows, r);
  });
  await client.subscribeAsync(['raw/#', 'geoflux/#']);
  const kindRows = (kind: string) => [...rows].map(([d, rs]) => [d, rs.filter((r) => r.kind === kind)] as const).filter(([, rs]) => rs.length);
  return { raw, rows, kindRows, end: () => client.endAsync(true) };
}

/** the time of a fix (epoch ms in `t`) or of a row made from one (ISO 8601 in `time`) */
export const timeOf = (r: Row): string => (typeof r.t === 'number' ? new Date(r.t).toISOString() : String(r.time));

/** Per device and fence, the geofence's enters and exits alternate, enter first: an enter fired again means a device's state was lost. */
export function expectFenceEventsAlternate(fenceRows: (readonly [string, Row[]])[]): void {
  for (const [device, rs] of fenceRows) {
    const byFence = new Map<string, string[]>();
    for (const r of rs.filter((e) => e.detect !== 'inside')) {
      const fence = String((r.fence as { id: unknown }).id);
      byFence.set(fence, [...(byFence.get(fence) ?? []), String(r.detect)]);
    }
    for (const [fence, detects] of byFence) expect.soft(detects.join(' '), `${device} at ${fence}`).toMatch(/^enter( exit enter)*( exit)?$/);
  }
}
