import { describe, expect, it } from 'vitest';
import { batchFromRecords } from '../codecs/gps-batch.ts';
import { keptLinesLog } from '../testing/kept-lines-log.ts';
import { ZipperClient } from './client.ts';
import { RecordWriter } from './record-writer.ts';

const NOW = Date.UTC(2026, 11, 7, 12);
const SECONDS = Math.floor(NOW / 1000);

/** a writer on a client that never dials: what it writes stays in the spool */
function writer() {
  const log = keptLinesLog();
  const client = new ZipperClient('source', { name: 'gw', zipper: 'quic://127.0.0.1:9', log }, []);
  client.tags = { gps: 16 };
  return { log, client, w: new RecordWriter(client, 4096, () => NOW) };
}
const fix = (t: number, deviceId = 'veh-1') => ({ deviceId, t, lon: 7.42, lat: 43.73 });

describe('a time that looks like epoch seconds', () => {
  it('is written as it is, and said once per writer', () => {
    const { log, client, w } = writer();
    w.write('gps', [fix(0), fix(SECONDS)]);
    w.write('gps', fix(SECONDS + 1, 'veh-2'));
    w.write('gps', batchFromRecords([fix(SECONDS + 2)]));
    // what a close says of the warnings held back: none
    client.warnings.flush();
    expect(log.said).toEqual([
      'warn write("gps"): t looks like epoch seconds (1796644800 is 2026-12-07T12:00:00.000Z in seconds, 1970-01-21T19:04:04.800Z in ms); geoflux takes epoch milliseconds (said once)',
    ]);
  });

  it('is said of a batch too', () => {
    const { log, w } = writer();
    w.write('gps', batchFromRecords([fix(1), fix(SECONDS - 3600)]));
    expect(log.said).toHaveLength(1);
  });

  it('is not said of small relative times, epoch ms, or ten digits far from now', () => {
    const { log, w } = writer();
    w.write('gps', [fix(0), fix(1), fix(2), fix(NOW), fix(SECONDS - 2 * 86_400), fix(1e10)]);
    w.write('gps', batchFromRecords([fix(3), fix(NOW)]));
    expect(log.said).toEqual([]);
  });
});
