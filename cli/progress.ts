import { thousands } from '../log/thousands.ts';

/** A progress bar on stderr when it is a terminal; otherwise one summary line at the end. */
export class Progress {
  private last = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  private readonly started = Date.now();

  constructor(
    private readonly total: number,
    private readonly unit: string,
  ) {}

  update(done: number): void {
    if (!this.tty || Date.now() - this.last < 100) return;
    this.last = Date.now();
    const frac = this.total ? done / this.total : 1;
    const bar = '█'.repeat(Math.round(frac * 30)).padEnd(30, '░');
    process.stderr.write(`\r${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${thousands(done)}/${thousands(this.total)} ${this.unit}`);
  }

  done(summary: string): void {
    const secs = (Date.now() - this.started) / 1000;
    process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}${summary} in ${secs.toFixed(2)} s\n`);
  }
}

/**
 * A status line for open-ended work (a simulation, a replay): rewritten in place on a terminal, otherwise
 * logged as a line every `every` ms so a log file shows progress without flooding.
 */
export class StatusLine {
  private last = 0;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly every = 10_000) {}

  update(text: () => string): void {
    const now = Date.now();
    if (now - this.last < (this.tty ? 250 : this.every)) return;
    this.last = now;
    process.stderr.write(this.tty ? `\r\x1b[K${text()}` : `${text()}\n`);
  }

  done(summary: string): void {
    process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}${summary}\n`);
  }
}
