import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, it } from 'vitest';
import { connectSource } from '../source/connect-source.ts';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * serve under a service manager: SIGTERM is a clean stop said as SIGTERM's (not "Ctrl-C again"), and a
 * second SIGTERM while that stop waits on a kernel stuck on a fix exits at once with 143, its last line
 * saying what it cut short.
 */
it('SIGTERM drains, naming SIGTERM; a second SIGTERM exits 143 with a last line saying what it cut short', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-signals-'));
  writeFileSync(
    join(dir, 'wf.yaml'),
    [
      'name: signals',
      'listen: [quic://127.0.0.1:0]',
      'metrics: { port: 0 }',
      'tags: { slow: 17 }',
      'functions:',
      `  - { name: spinner, observe: [slow], host: local, kernel: ${resolve('kernels/build/testing/spin.wasm')}, timeout: 60000 }`,
    ].join('\n'),
  );
  const serve = await startServe(join(dir, 'wf.yaml'), {}, /metrics: http:\/\/\S+/);
  const source = await connectSource({ name: 'fleet', zipper: serve.url, certHash: serve.certHash });
  try {
    source.write('slow', [{ deviceId: 'runaway', t: 0, lon: 1, lat: 1, speed: 150 }]);
    await waitFor(async () => /^geoflux_inflight_frames\S* 1$/m.test(await (await fetch(serve.metricsUrl!)).text()), 'the spinner holding the fix it hangs on');
    serve.child.kill('SIGTERM');
    await waitFor(() => serve.out.stderr.includes('stopping on SIGTERM'), { what: () => `the stop said: ${serve.out.stderr}` });
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(143);
  } finally {
    await serve.stop();
    await source.close(0);
  }
  const lines = serve.out.stderr.trimEnd().split('\n');
  expect(lines.find((l) => l.includes('stopping on SIGTERM'))).toMatch(/INFO  \[serve\] stopping on SIGTERM: draining, functions finishing what they hold \(up to 5000 ms\) \(send SIGTERM again, or Ctrl-C, to stop at once\)$/);
  expect(serve.out.stderr).not.toContain('Ctrl-C again');
  expect(lines.at(-1)).toMatch(/INFO  \[serve\] SIGTERM again: stopped at once \(exit 143\), cutting short the drain and the functions' closes: .*no done: line$/);
}, 60_000);
