import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/**
 * Lines to a file or, for `-`, stdout, waiting for the stream to drain so a fast producer cannot fill memory.
 * A reader that goes away (`| head`) is not an error: `onClosed` is told, and later lines go nowhere.
 */
export class LineSink {
  private readonly out: Writable;
  readonly isStdout: boolean;
  private closedByReader = false;

  constructor(path: string, onClosed?: () => void) {
    this.isStdout = path === '-';
    this.out = this.isStdout ? process.stdout : createWriteStream(path);
    this.out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      this.closedByReader = true;
      onClosed?.();
    });
  }

  async write(lines: string[]): Promise<void> {
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
    if (this.isStdout || this.closedByReader) return;
    this.out.end();
    await once(this.out, 'finish');
  }
}
