import { describe, expect, it } from 'vitest';
import { placeOf } from '../codecs/event-ids.ts';
import { CallOrigins } from './call-origins.ts';

const origin = (sid: string, seq = 1) => ({ sid, seq, tid: '' });
const enter = (deviceId: string) => ({ kind: 'enter', deviceId, time: '2026-01-01T08:00:00.000Z' });

describe('what made a batch handler call\'s event', () => {
  it('is the source of its device\'s fixes in that call, whatever calls taken after it had: a device that moved to another source before the call\'s events went out', () => {
    const first = new CallOrigins([{ devices: ['v0', 'v1'], origin: origin('s1') }]);
    // taken before the first call's events are named: v0 now sends from s2
    const second = new CallOrigins([{ devices: ['v0'], origin: origin('s2') }]);
    expect(first.moment()(enter('v0'))).toBe(`s1:${placeOf(enter('v0'))}`);
    expect(second.moment()(enter('v0'))).toBe(`s2:${placeOf(enter('v0'))}`);
  });

  it('is the last frame\'s source for a device in several frames of the call, and the call\'s last frame for a device with no fix in it', () => {
    const call = new CallOrigins([
      { devices: ['v0', 'v1'], origin: origin('s1') },
      { devices: ['v1'], origin: origin('s2', 7) },
    ]);
    expect(call.origin).toEqual(origin('s2', 7));
    expect(['v0', 'v1', 'gone'].map((d) => call.moment()(enter(d)).split(':')[0])).toEqual(['s1', 's2', 's2']);
  });

  it('is the call\'s last frame and the event\'s content for an event with no place; `after` sets a flush\'s apart', () => {
    const call = new CallOrigins([{ devices: ['v0'], origin: origin('s1', 4) }]);
    expect(call.moment()({ kind: 'total', n: 3 })).toMatch(/^s1:4:[0-9a-f]+$/);
    expect(call.moment(':flush')({ kind: 'total', n: 3 })).toMatch(/^s1:4:flush:[0-9a-f]+$/);
    expect(new CallOrigins([]).moment(':flush')({ kind: 'bye' })).toMatch(/^none:flush:[0-9a-f]+$/);
  });
});
