import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { setLogLevel } from '../log/logger.ts';
import { recordingLog } from '../transport/testdata/recording-log.ts';
import { SinkRepeats } from './sink-repeats.ts';

setLogLevel('silent');

it("keeps each sink's ids across a restart once, apart from another sink's, and drops what the first run published", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-sink-ids-'));
  const first = await SinkRepeats.load(dir, recordingLog());
  expect([{ id: 'a' }, { id: 'a' }, {}].map((e) => first.of('out').first(e))).toEqual([true, false, true]);
  expect(first.of('state').first({ id: 'b' })).toBe(true);
  expect(first.dropped()).toEqual([
    { fn: 'out', dropped: 1 },
    { fn: 'state', dropped: 0 },
  ]);
  await first.save();
  const second = await SinkRepeats.load(dir, recordingLog());
  expect([second.of('out').first({ id: 'a' }), second.of('out').first({ id: 'b' }), second.of('state').first({ id: 'b' })]).toEqual([false, true, false]);
  // read once: a run that dies (kill -9) leaves no file, and the next start takes no ids older than it published
  expect(existsSync(join(dir, 'sink-ids.json'))).toBe(false);
});

it('starts without the ids of a file it cannot read, and says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geoflux-sink-ids-'));
  writeFileSync(join(dir, 'sink-ids.json'), '{"out": [1, 2]}');
  const log = recordingLog();
  const repeats = await SinkRepeats.load(dir, log);
  expect(repeats.of('out').first({ id: '1' })).toBe(true);
  expect(log.lines).toEqual([expect.stringMatching(/^warn .*sink-ids\.json: not used \(out\.0: .*string.*\): events resent after the restart may be published twice$/)]);
});

it('says why it did not use a file in the words zod said it before the checks were written out', async () => {
  const cases: [text: string, why: string][] = [
    ["{\"out\": [1, 2]}", "out.0: Invalid input: expected string, received number"],
    ["[]", ": Invalid input: expected record, received array"],
    ["{\"out\": \"a\"}", "out: Invalid input: expected array, received string"],
    ["5", ": Invalid input: expected record, received number"],
    ["{\"a\": [\"x\"], \"b\": [null]}", "b.0: Invalid input: expected string, received null"],
  ];
  for (const [text, why] of cases) {
    const dir = mkdtempSync(join(tmpdir(), 'geoflux-sink-ids-'));
    writeFileSync(join(dir, 'sink-ids.json'), text);
    const log = recordingLog();
    await SinkRepeats.load(dir, log);
    expect(log.lines).toEqual([`warn ${join(dir, 'sink-ids.json')}: not used (${why}): events resent after the restart may be published twice`]);
  }
});
