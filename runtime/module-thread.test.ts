import { describe, expect, it } from 'vitest';
import { logger, setLogLevel } from '../log/logger.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { waitFor } from '../testing/wait-for.ts';
import { ModuleThread } from './module-thread.ts';

setLogLevel('silent');

const thread = (workerData: { hangAfter?: number } = {}) =>
  new ModuleThread({ label: 'test', callerUrl: import.meta.url, entry: './testdata/answers-pings', workerData, watchdog: 400, attach: () => {}, log: logger('test') });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** blocks this thread, as a long synchronous call would */
function block(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

describe('a module thread\'s watchdog', () => {
  it('stops and restarts a thread that stops answering', async () => {
    const t = thread({ hangAfter: 100 });
    await t.start();
    for (let i = 0; i < 100 && t.restarts.hung === 0; i++) await sleep(50);
    expect(t.restarts.hung).toBe(1);
    await t.close(1000);
  });

  it('does not blame the thread for time this thread was blocked and could not hear it', async () => {
    const t = thread();
    await t.start();
    await sleep(250);
    block(1500);
    await sleep(600);
    expect(t.restarts).toEqual({ crash: 0, hung: 0, exit: 0 });
    await t.close(1000);
  });

  describe('while a start-up is under way beside (a host thread\'s neighbour loads)', () => {
    /** a thread of watchdog 400 ms, stuck (in a kernel call or not) while a start-up in it never ends; the clock moves by hand */
    const stuck = async (call: boolean) => {
      const clock = new ManualClock();
      const log = keptLinesLog();
      const heard: string[] = [];
      const t = new ModuleThread({ label: 'test', callerUrl: import.meta.url, entry: './testdata/answers-pings', workerData: {}, watchdog: 400, attach: () => {}, log, clock, onMessage: (m) => heard.push(m.geoflux) });
      await t.start();
      void t.unwatched(() => new Promise(() => {}));
      t.post({ geoflux: 'hang', call });
      await waitFor(() => heard.includes('hanging'), 'the thread to say it hangs');
      const stopped = () => log.said.filter((l) => l.includes('has not answered')).length;
      return { t, clock, stopped };
    };

    it('stops a thread stuck in a kernel call once the call is over the limit, not after the start-up\'s six times', async () => {
      const { t, clock, stopped } = await stuck(true);
      clock.advance(1000);
      expect(stopped()).toBe(1);
      await waitFor(() => t.restarts.hung, 'the thread restarted as hung');
      await t.close(1000);
    });

    it('gives silence outside any call (a start-up\'s loads) six times the limit', async () => {
      const { t, clock, stopped } = await stuck(false);
      clock.advance(2000);
      expect(stopped()).toBe(0);
      clock.advance(1000);
      expect(stopped()).toBe(1);
      await waitFor(() => t.restarts.hung, 'the thread restarted as hung');
      await t.close(1000);
    });
  });
});
