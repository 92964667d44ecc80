import type { Source } from './connect-source.ts';

/**
 * Writes, and when the link to a connected zipper is backed up, waits (at most `timeout` ms) until what is
 * in flight is acknowledged: a simulator or a replay slows to what the zipper takes. While the zipper is
 * away, writes go to the spool without waiting (it is bounded, and counts what it has to drop), so a
 * producer keeps its clock and its `--duration` means what it says.
 */
export async function writePaced(source: Source, tag: string, records: readonly object[], timeout = 5000): Promise<void> {
  if (records.length === 0) return;
  if (!source.write(tag, records) && source.stats().connected) await source.flush(timeout);
}
