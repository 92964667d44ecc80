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
    process.stderr.write(`\r${bar} ${(frac * 100).toFixed(0).padStart(3)}%  ${done.toLocaleString('en')}/${this.total.toLocaleString('en')} ${this.unit}`);
  }

  done(summary: string): void {
    const secs = (Date.now() - this.started) / 1000;
    process.stderr.write(`${this.tty ? '\r\x1b[K' : ''}${summary} in ${secs.toFixed(2)} s\n`);
  }
}
