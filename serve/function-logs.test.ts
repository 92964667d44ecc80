import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlRequest } from '../client/control-client.ts';
import { setLogLevel } from '../log/logger.ts';
import { connectSource } from '../source/connect-source.ts';
import { runGeoflux } from '../testing/run-geoflux.ts';
import { startGeoflux } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';
import { parseWorkflow } from '../workflows/load.ts';
import type { ControlReply } from '../zipper/control.ts';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { serveWithSquares } from '../testing/squares-serve.ts';
import { FunctionLogs, functionsOf, LINES_KEPT } from './function-logs.ts';
import { serveWorkflow } from './serve-workflow.ts';

setLogLevel('silent');
const TOKEN = 'logs-control';

/** a function that says each fix it takes */
const TALKER = `export const batches = (ctx) => ({ process(b) { for (let i = 0; i < b.n; i++) ctx.log.info(\`fix of \${b.devices[b.device[i]]}\`); return []; } });\n`;

const fixes = (s: number, devices: string[]) => devices.map((deviceId) => ({ deviceId, t: 1_700_000_000_000 + s * 1000, lon: 7.42, lat: 43.73, speed: 5 }));

describe('geoflux logs', () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const talkerDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geoflux-logs-'));
    dirs.push(dir);
    await writeFile(join(dir, 'talker.mjs'), TALKER);
    return dir;
  };
  /** a workflow of two talkers in `dir`, its state folder (and so its certificate) kept there across restarts */
  const talkers = (dir: string, listen = 'quic://127.0.0.1:0') =>
    parseWorkflow(
      [
        'name: logs',
        `listen: [${listen}]`,
        `control: { token: ${TOKEN} }`,
        'tags: { gps: 16 }',
        'functions:',
        '  - { name: talker, observe: [gps], run: ./talker.mjs, host: local }',
        // in the zipper's thread: its lines are serve's own
        '  - { name: near, observe: [gps], run: ./talker.mjs, host: local, timeout: 0 }',
      ].join('\n'),
      join(dir, 'logs.yaml'),
    );

  it("prints a function's recent lines from a running serve over its control channel, from its thread or serve's own; --follow the new ones", { timeout: 120_000 }, async () => {
    const served = await serveWorkflow(talkers(await talkerDir()));
    const at = { zipper: served.zipper.listeners[0].url, certHash: served.zipper.tls.certHash, token: TOKEN };
    const logs = async (name: string, after?: number) => (await controlRequest(at, { op: 'logs', name, after })) as ControlReply & { logs: { lines: string[]; next: number } };
    const src = await connectSource({ name: 'gw', zipper: at.zipper, certHash: at.certHash });
    try {
      src.write('gps', fixes(0, ['veh-1', 'veh-2']));
      expect(await src.flush(20_000)).toBe(true);
      for (const [fn, where] of [['talker', 'in a thread of its own'], ['near', "in the zipper's thread"]]) {
        const got = await waitFor(() => logs(fn), { what: `${fn}'s three lines`, until: (r) => r.logs?.lines.length === 3 });
        expect(got.logs.lines).toEqual([
          // serve's own line about the function (its start; a crash or restart alike) is the function's too
          expect.stringMatching(new RegExp(`INFO  \\[serve\\] function "${fn}": 1 local instance of \\S*talker\\.mjs, ${where}$`)),
          expect.stringMatching(new RegExp(`INFO  \\[sfn ${fn}\\] fix of veh-1$`)),
          expect.stringMatching(new RegExp(`INFO  \\[sfn ${fn}\\] fix of veh-2$`)),
        ]);
        expect(got.logs.next).toBe(3);
      }
      // after a count: only what came since
      src.write('gps', fixes(1, ['veh-3']));
      expect(await src.flush(20_000)).toBe(true);
      const since = await waitFor(() => logs('talker', 3), { what: 'the line after the first three', until: (r) => r.logs?.lines.length === 1 });
      expect(since.logs).toMatchObject({ lines: [expect.stringMatching(/fix of veh-3$/)], next: 4, missed: 0 });
      expect(await logs('talkr')).toEqual({ ok: false, error: 'no function "talkr" (did you mean "talker"?) (it has: talker, near)' });

      // the command, as a user runs it
      const flags = ['--zipper', at.zipper, '--cert-hash', at.certHash, '--token', TOKEN];
      const once = await runGeoflux(['logs', 'talker', ...flags]);
      expect(once).toMatchObject({ code: 0, stderr: '' });
      expect(once.stdout.trim().split('\n').map((l) => l.replace(/^.* /, ''))).toEqual(['own', 'veh-1', 'veh-2', 'veh-3']);
      expect(await runGeoflux(['logs', 'talkr', ...flags])).toMatchObject({ code: 1, stderr: expect.stringContaining('refused: no function "talkr" (did you mean "talker"?)') });
      expect(await runGeoflux(['logs', '--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('Usage: geoflux logs <fn> [--follow] [options]') });
      const follow = await startGeoflux(['logs', 'talker', '--follow', ...flags], /following "talker"/);
      try {
        await waitFor(() => follow.out.stdout.includes('fix of veh-3'), { what: () => `the lines so far, followed: ${follow.out.stdout}${follow.out.stderr}` });
        src.write('gps', fixes(2, ['veh-4']));
        expect(await src.flush(20_000)).toBe(true);
        await waitFor(() => follow.out.stdout.includes('fix of veh-4'), { what: () => `the new line, followed: ${follow.out.stdout}${follow.out.stderr}` });
      } finally {
        expect(await follow.stop()).toBe(0);
      }
    } finally {
      await src.close(0);
      await served.stop();
    }
  });

  it('names a replaced deployment as the user deployed it, the version apart (v2), never by the zipper\'s name heavy@2', { timeout: 120_000 }, async () => {
    const { served, trust, close } = await serveWithSquares(`name: versions\nlisten: [quic://127.0.0.1:0]\ncontrol: { token: ${TOKEN} }\ntags: { gps: 16, fast: 17 }\nfunctions: []\n`);
    try {
      const wasm = new Uint8Array(readFileSync(resolve('kernels/build/testing/speed-limit.wasm')));
      const hash = createHash('sha256').update(wasm).digest('hex');
      const deploy = (limit: number) => controlRequest({ ...trust, token: TOKEN }, { op: 'deploy', name: 'heavy', observe: ['gps'], emit: ['fast'], params: { limit }, min: 1, max: 1, wasm, hash, freshState: true });
      expect(await deploy(5)).toMatchObject({ ok: true });
      expect(await deploy(6)).toMatchObject({ ok: true });
      const { lines } = served.logs.since('heavy');
      expect(lines.filter((l) => l.includes('local instance'))).toEqual([
        expect.stringMatching(/INFO  \[serve\] function "heavy": 1 local instance of kernel /),
        expect.stringMatching(/INFO  \[serve\] function "heavy" v2: 1 local instance of kernel /),
      ]);
      expect(lines.filter((l) => l.includes('heavy@'))).toEqual([]);
      // a version's instance logs as `sfn heavy v2` (serve/run-instance.ts): its lines are its function's
      expect(functionsOf({ component: 'sfn heavy v2/kernel heavy', line: '' })).toEqual(['heavy']);
    } finally {
      await close();
    }
  });

  it("shows serve's own lines about a deployed function: its scale to zero, its wake, and a deploy of its name refused", { timeout: 120_000 }, async () => {
    const { trust, close } = await serveWithSquares(`name: zero\nlisten: [quic://127.0.0.1:0]\ncontrol: { token: ${TOKEN} }\ntags: { gps: 16, fast: 17 }\nfunctions: []\n`);
    const src = await connectSource({ name: 'gw', zipper: trust.zipper, certHash: trust.certHash });
    try {
      const wasm = new Uint8Array(readFileSync(resolve('kernels/build/testing/speed-limit.wasm')));
      const hash = createHash('sha256').update(wasm).digest('hex');
      const deploy = (emit: string[]) => controlRequest({ ...trust, token: TOKEN }, { op: 'deploy', name: 'sleeper', observe: ['gps'], emit, params: { limit: 5 }, min: 0, max: 1, idle: 1, wasm, hash });
      expect(await deploy(['fast'])).toMatchObject({ ok: true });
      // the command, as a user runs it
      const logs = async () => (await runGeoflux(['logs', 'sleeper', '--zipper', trust.zipper, '--cert-hash', trust.certHash, '--token', TOKEN])).stdout;
      const said = (what: RegExp) => waitFor(logs, { what: `${what} in geoflux logs sleeper`, until: (out) => what.test(out) });
      await said(/INFO  \[serve\/function sleeper\] scaled to zero after 1 s without a frame$/m);
      src.write('gps', fixes(0, ['veh-1']));
      expect(await src.flush(20_000)).toBe(true);
      await said(/INFO  \[serve\/function sleeper\] started again from zero: \d+ ms from the first frame held to its instance ready$/m);
      expect(await deploy(['gps'])).toMatchObject({ ok: false });
      await said(/WARN  \[serve\] deploy "sleeper" refused \(tags\): --emit: "gps" is also observed by this function \(a loop\)$/m);
    } finally {
      await src.close(0);
      await close();
    }
  });

  it('--follow says once that serve went away, and follows the serve that comes back at the same address, without the client\'s internals', { timeout: 120_000 }, async () => {
    const dir = await talkerDir();
    const first = await serveWorkflow(talkers(dir));
    const { url } = first.zipper.listeners[0];
    const { certHash } = first.zipper.tls;
    const follow = await startGeoflux(['logs', 'talker', '--follow', '--zipper', url, '--cert-hash', certHash, '--token', TOKEN], /following "talker"/);
    let again: Awaited<ReturnType<typeof serveWorkflow>> | undefined;
    try {
      const said = (what: string, seen: () => boolean) => waitFor(seen, { what: () => `${what}, followed: ${follow.out.stdout}${follow.out.stderr}` });
      await said('the talker\'s start', () => follow.out.stdout.includes('1 local instance'));
      await first.stop();
      await said('that serve went away', () => follow.out.stderr.includes('serve went away'));
      again = await serveWorkflow(talkers(dir, url));
      const src = await connectSource({ name: 'gw', zipper: url, certHash });
      src.write('gps', fixes(0, ['veh-9']));
      expect(await src.flush(20_000)).toBe(true);
      await src.close(0);
      await said('a line of the serve started again', () => follow.out.stdout.includes('fix of veh-9'));
      expect(follow.out.stderr.trim().split('\n')).toEqual([
        'geoflux logs: following "talker" (Ctrl-C to stop)',
        'geoflux logs: serve went away; following again once it is back (Ctrl-C to stop)',
        expect.stringMatching(/^geoflux logs: serve started again; its lines from the start/),
      ]);
    } finally {
      expect(await follow.stop()).toBe(0);
      await again?.stop();
    }
  });

  it('keeps the last lines of each function, a version under its deployment\'s name, and counts those a follower missed', () => {
    const logs = new FunctionLogs();
    try {
      for (let i = 1; i <= LINES_KEPT + 50; i++) logs.add(i % 2 ? 'speeding' : 'speeding@2', `line ${i}`);
      const all = logs.since('speeding');
      expect(all.lines).toHaveLength(LINES_KEPT);
      expect([all.lines[0], all.lines.at(-1), all.next, all.missed]).toEqual(['line 51', `line ${LINES_KEPT + 50}`, LINES_KEPT + 50, 50]);
      expect(logs.since('speeding', 40)).toMatchObject({ missed: 10, next: LINES_KEPT + 50 });
      expect(logs.since('speeding', LINES_KEPT + 48)).toMatchObject({ lines: [`line ${LINES_KEPT + 49}`, `line ${LINES_KEPT + 50}`], next: LINES_KEPT + 50, missed: 0 });
      expect(logs.since('other')).toMatchObject({ lines: [], next: 0, missed: 0 });
      // a serve started again counts from 0 anew: its answers say it is another, so a follower starts over
      const again = new FunctionLogs();
      expect(again.since('speeding').serve).not.toBe(logs.since('speeding').serve);
      expect(logs.since('other').serve).toBe(logs.since('speeding').serve);
      again.close();
    } finally {
      logs.close();
    }
  });
});
