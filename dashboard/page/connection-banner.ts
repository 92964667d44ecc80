import { clock } from './dom.ts';
import type { LiveState } from './live.ts';

const BACK_SHOWN_MS = 8000;

/**
 * Says what the live connection does: the status word in the header (`live` when connected), and a banner
 * when it drops (kept until it is back), when it is back (for a few seconds), or when there can be none.
 */
export class ConnectionBanner {
  private lostAt = 0;
  private hideTimer = 0;

  constructor(
    private readonly word: HTMLElement,
    private readonly banner: HTMLElement,
  ) {}

  show(s: LiveState): void {
    clearTimeout(this.hideTimer);
    this.word.dataset.state = s.kind;
    if (s.kind === 'live') {
      this.word.textContent = 'live';
      if (this.lostAt) this.say('back', `Live connection back at ${clock(Date.now())} (it was down ${Math.round((Date.now() - this.lostAt) / 1000)} s).`);
      else this.banner.hidden = true;
      this.lostAt = 0;
      this.hideTimer = window.setTimeout(() => (this.banner.hidden = true), BACK_SHOWN_MS);
    } else if (s.kind === 'lost') {
      this.lostAt = s.since;
      this.word.textContent = 'reconnecting';
      this.say('lost', `Live connection lost at ${clock(s.since)}: reconnecting… The map shows the last data it had.`);
    } else if (s.kind === 'unavailable') {
      this.word.textContent = 'no live data';
      this.say('unavailable', `No live data: ${s.problem}.`);
    } else this.word.textContent = 'connecting';
  }

  private say(kind: string, text: string): void {
    this.banner.className = `banner ${kind}`;
    this.banner.textContent = text;
    this.banner.hidden = false;
  }
}
