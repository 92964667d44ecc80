import type { GpsRecord } from '../../codecs/gps-record.ts';
import { MAX_AHEAD_MS } from '../device-rules.ts';
import type { FixIntake } from '../fix-intake.ts';
import { parseSentence } from './nmea-sentence.ts';

const DAY = 86_400_000;

/**
 * One receiver's sentences, in order, into fixes. RMC carries everything a fix needs, so a receiver that
 * prints RMC gets a fix per RMC (its GGA of the same second would only repeat it). GGA has no date, and
 * a receiver prints it before or after its RMC: a GGA is held until the next GGA, and becomes a fix then
 * only if the receiver has printed no RMC (one that prints GGA alone: its fixes come a sentence late, and
 * `end()` lets the last one out). Its date is that of the latest moment with its time of day that is not
 * ahead of the clock by more than a receiver's may be (MAX_AHEAD_MS): the clock's day, or the day before
 * (just after midnight, a fix from before it, which a date 'today' would put hours in the future).
 */
export class NmeaStream {
  private seenRmc = false;
  private heldGga: GpsRecord | undefined;

  constructor(
    private readonly deviceId: string,
    private readonly intake: FixIntake,
    private readonly now: () => number = Date.now,
  ) {}

  line(line: string): void {
    if (!line.trim()) return;
    const p = parseSentence(line);
    if ('other' in p) return;
    if ('error' in p) return this.intake.refuse('malformed', `${this.deviceId}: ${p.error}`);
    const s = p.sentence;
    if (s.kind === 'RMC') {
      this.seenRmc = true;
      if (!s.valid) return this.intake.refuse('no_fix', `${this.deviceId}: an RMC with status V (no fix)`);
      if (s.date === undefined || Number.isNaN(s.date)) return this.intake.refuse('malformed', `${this.deviceId}: an RMC without a date`);
      const fix: GpsRecord = { deviceId: this.deviceId, t: s.date + s.time, lon: s.lon, lat: s.lat };
      if (s.speed !== undefined) fix.speed = s.speed;
      if (s.course !== undefined) fix.heading = s.course;
      this.intake.take(fix);
    } else {
      if (s.quality === 0) return this.intake.refuse('no_fix', `${this.deviceId}: a GGA with fix quality 0`);
      const now = this.now();
      let day = now - (now % DAY);
      if (day + s.time - now > MAX_AHEAD_MS) day -= DAY;
      this.end();
      this.heldGga = { deviceId: this.deviceId, t: day + s.time, lon: s.lon, lat: s.lat };
    }
  }

  /** Lets out a GGA still held: at the end of a connection. */
  end(): void {
    if (this.heldGga && !this.seenRmc) this.intake.take(this.heldGga);
    this.heldGga = undefined;
  }
}

/** the longest line kept: longer than any sentence or gpsd report, so what runs past it is not one */
export const MAX_LINE = 64 * 1024;

/** Splits a byte stream into lines (what a TCP connection or gpsd sends arrives in pieces); a line past MAX_LINE is dropped, and `overflow` told. */
export function lines(onLine: (line: string) => void, overflow: (why: string) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    const parts = (rest + chunk.toString('latin1')).split('\n');
    rest = parts.pop()!;
    if (rest.length > MAX_LINE) {
      overflow(`a line of more than ${MAX_LINE} bytes without a newline`);
      rest = '';
    }
    for (const l of parts) onLine(l);
  };
}
