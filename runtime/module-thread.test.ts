import { describe, expect, it } from 'vitest';
import { logger, setLogLevel } from '../log/logger.ts';
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
});
