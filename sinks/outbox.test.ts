import { describe, expect, it } from 'vitest';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { Outbox, type OutboxLink, type OutMessage } from './outbox.ts';

/** a link the test holds: sends wait until the test acknowledges them */
const heldLink = () => {
  const sent: ((err?: Error) => void)[] = [];
  const link: OutboxLink & { connected: boolean } = { connected: false, maxInflight: 2, send: (_m, done) => void sent.push(done) };
  return { link, sent };
};
const msg = (i: number): OutMessage => ({ to: `t/${i}`, payload: String(i), retain: false });

describe('the outbox says every drop', () => {
  it('a full buffer while the link is down: one warning a window naming where and since when, then how many more', () => {
    const clock = new ManualClock();
    const log = keptLinesLog();
    const { link } = heldLink();
    const box = new Outbox(link, 10, log, 'nats://127.0.0.1:4223', clock);
    clock.advance(2000);
    for (let i = 0; i < 40; i++) box.push(msg(i));
    expect(box.counts()).toMatchObject({ buffered: 10, dropped: 30 });
    expect(log.said).toEqual(['warn buffer of 10 full: dropped the oldest message for nats://127.0.0.1:4223, not reachable for 2.0 s']);
    clock.advance(10_000);
    expect(log.said[1]).toMatch(/^warn … 29 more in the last 10 s; the last: buffer of 10 full: dropped the oldest message for nats:\/\/127\.0\.0\.1:4223, not reachable for 2\.0 s$/);
  });

  it('a full buffer while the link is up and slow says so', () => {
    const log = keptLinesLog();
    const { link } = heldLink();
    const box = new Outbox(link, 3, log, 'mqtt://broker:1883', new ManualClock());
    link.connected = true;
    box.up();
    for (let i = 0; i < 6; i++) {
      box.push(msg(i));
      box.drain();
    }
    expect(box.counts()).toMatchObject({ inflight: 2, buffered: 3, dropped: 1 });
    expect(log.said).toEqual(['warn buffer of 3 full: dropped the oldest message for mqtt://broker:1883, which is slow: 2 in flight']);
  });

  it('a close counts what is still buffered as dropped, and says it and what is unacknowledged', async () => {
    const log = keptLinesLog();
    const { link } = heldLink();
    const box = new Outbox(link, 100, log, 'mqtt://broker:1883', new ManualClock());
    link.connected = true;
    box.up();
    for (let i = 0; i < 7; i++) box.push(msg(i));
    box.drain();
    link.connected = false;
    box.down();
    await box.close(1000);
    expect(box.counts()).toMatchObject({ inflight: 2, buffered: 0, dropped: 5 });
    expect(log.said).toEqual(['warn closing: dropped 5 buffered messages for mqtt://broker:1883, not reachable for 0.0 s', 'warn closing with 2 messages sent to mqtt://broker:1883 and not acknowledged']);
  });
});
