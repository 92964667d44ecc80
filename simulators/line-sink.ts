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
    await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]);
  }

  async close(): Promise<void> {
    if (this.isStdout || this.closedByReader) return;
    this.out.end();
    await once(this.out, 'finish');
  }
}
