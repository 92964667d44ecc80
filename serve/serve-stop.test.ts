import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe } from '../testing/serve-process.ts';
import { waitFor } from '../testing/wait-for.ts';

/**
 * Ctrl-C on `geoflux serve` while a function still holds what it owes the next one (as a map matcher holds
 * its last fixes until it stops): upstream finishes first, so its last word reaches a printer that is still
 * there, and serve leaves with nothing unacknowledged instead of waiting out its drain for a function
 * already gone.
 */
describe('a replay in serve, then Ctrl-C', () => {
  it('says the replay finished and serve goes on; then hands what a stopping function emits to the functions after it, leaving nothing unacknowledged', async () => {
    const serve = await startServe('workflows/testdata/good/stop.yaml', { GEOFLUX_TEST_STATE: join(mkdtempSync(join(tmpdir(), 'geoflux-stop-')), 'state') });
    await waitFor(() => serve.out.stderr.includes('serve goes on serving until Ctrl-C'), 'the replay to end');
    expect(serve.out.stderr).toMatch(/\[source drive\] replay finished: 7,531 fixes written in \d+\.\d s\n/);
    expect(await serve.stop()).toBe(0);
    expect(serve.out.stdout).toContain('{"kind":"tally","deviceId":"all","fixes":7531}');
    expect(serve.out.stderr).not.toContain('not yet acknowledged');
    expect(serve.out.stderr).toContain('[zipper stop] stopped');
  }, 60_000);
});
