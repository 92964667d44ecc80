import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

/** Lines to a file or, for `-`, stdout, waiting for the stream to drain so a fast producer cannot fill memory. */
export class LineSink {
  private readonly out: Writable;
  readonly isStdout: boolean;

  constructor(path: string) {
    this.isStdout = path === '-';
    this.out = this.isStdout ? process.stdout : createWriteStream(path);
  }

  async write(lines: string[]): Promise<void> {
    if (lines.length && !this.out.write(lines.join('\n') + '\n')) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    if (this.isStdout) return;
    this.out.end();
    await once(this.out, 'finish');
  }
}
