import { createWriteStream, openSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Lines to a file or, for `-`, stdout, waiting for the stream to drain so a fast producer cannot fill memory.
 * A reader that goes away (`| head`) is not an error: `onClosed` is told, and later lines go nowhere.
 * The file is opened at once, so a path that cannot be written fails before any work starts, as an error
 * saying why; a write that fails later (a full disk) fails the next `write` or `close`.
 */
export class LineSink {
  private readonly out: Writable;
  readonly isStdout: boolean;
  private closedByReader = false;
  private failed: Error | undefined;

  constructor(path: string, onClosed?: () => void) {
    this.isStdout = path === '-';
    this.out = this.isStdout ? process.stdout : createWriteStream(path, { fd: openFile(path) });
    this.out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') return void (this.failed ??= new Error(`cannot write ${path}: ${e.message}`));
      this.closedByReader = true;
      onClosed?.();
    });
  }

  async write(lines: string[]): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.closedByReader || lines.length === 0 || this.out.write(lines.join('\n') + '\n')) return;
    // the wait that loses the race must let go of its listeners, or every full buffer leaves two behind
    const settled = new AbortController();
    try {
      await Promise.race([once(this.out, 'drain', { signal: settled.signal }), once(this.out, 'close', { signal: settled.signal })]);
    } finally {
      settled.abort();
    }
  }

  async close(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.isStdout || this.closedByReader) return;
    this.out.end();
    await Promise.race([once(this.out, 'finish'), once(this.out, 'close')]);
    if (this.failed) throw this.failed;
  }
}

const WHY: Record<string, string> = { ENOENT: 'no such directory', EISDIR: 'it is a directory', EACCES: 'permission denied', ENOTDIR: 'a part of the path is not a directory' };

function openFile(path: string): number {
  try {
    return openSync(path, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    throw new Error(`cannot write ${path}: ${WHY[code] ?? (e as Error).message}`);
  }
}
