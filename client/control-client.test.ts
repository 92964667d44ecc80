import { describe, expect, it } from 'vitest';
import { later, QUIC } from '../testing/zipper-harness.ts';
import { Zipper } from '../zipper/zipper.ts';
import type { ControlRequest } from '../zipper/control.ts';
import { controlRequest, openControl, ServeWentAwayError } from './control-client.ts';

/** A control request and a serve that goes away before answering it. */

const [, listen, urlOf] = QUIC;
const config = (listen: string[]) => ({ name: 'ctl', listen, controlToken: 'control-token', tags: { gps: 16 }, functions: [] });
const DEPLOY: ControlRequest = { op: 'deploy', name: 'mid2', observe: ['gps'], emit: [], params: {}, min: 1, max: 1, wasm: new Uint8Array(8), hash: 'ab' };

/** a zipper whose control handler records what it is asked; `answers` false: it answers nothing */
async function controlledZipper(at: string[], answers: boolean) {
  const asked: ControlRequest[] = [];
  const z = await Zipper.start(config(at));
  z.control = (req) => {
    asked.push(req);
    return answers ? Promise.resolve({ ok: true, message: `did ${req.op}` }) : new Promise(() => {});
  };
  return { z, asked };
}

describe('a control request whose serve goes away before answering', () => {
  it('fails with ServeWentAwayError, and is not replayed into the serve that comes up next at the same address', async () => {
    const first = await controlledZipper(listen, false);
    const url = urlOf(first.z);
    const trust = { zipper: url, insecure: true, token: 'control-token', maxBackoff: 100 };
    const session = later(await openControl(trust));
    const deploy = session.ask(DEPLOY);
    deploy.catch(() => {}); // read below, once the next serve is up
    await expect.poll(() => first.asked.length).toBe(1);
    await first.z.kill();
    // the next serve is up before the deploy's fate is read: a client that redialled would resend into it
    const next = await controlledZipper([url], true);
    later(next.z);
    await expect(deploy).rejects.toThrow(ServeWentAwayError);
    await expect(deploy).rejects.toThrow(/^serve went away before it answered \(quic:\/\/127\.0\.0\.1:\d+/);
    // a later request through the dead session fails at once too; a new one reaches the new serve, alone
    await expect(session.ask({ op: 'functions' })).rejects.toThrow(ServeWentAwayError);
    expect(await controlRequest(trust, { op: 'functions' })).toEqual({ ok: true, message: 'did functions' });
    expect(next.asked.map((r) => r.op)).toEqual(['functions']);
  });
});
