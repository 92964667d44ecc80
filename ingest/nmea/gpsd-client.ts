import { connect } from 'node:net';
import type { Logger } from '../../log/logger.ts';
import type { FixIntake } from '../fix-intake.ts';
import { lines } from './nmea-stream.ts';

/**
 * A client of gpsd (gpsd.gitlab.io/gpsd/gpsd_json.html): connects to it, asks for its JSON reports with
 * `?WATCH={"enable":true,"json":true}` and takes each TPV (time-position-velocity) report with a fix
 * (mode 2 or 3) and a time as a fix of the receiver it names (`device`, e.g. /dev/ttyUSB0), or of
 * `deviceId` when given. Speed is m/s already, `track` the heading, `eph` (estimated horizontal error, m) the accuracy.
 * gpsd gone away is asked again every `retryMs`.
 */

interface Tpv {
  class: 'TPV';
  device?: string;
  mode?: number;
  time?: string;
  lat?: number;
  lon?: number;
  speed?: number;
  track?: number;
  eph?: number;
}

export function watchGpsd(o: { host: string; port: number; deviceId?: string; intake: FixIntake; log: Logger; signal: AbortSignal; tooLong: (why: string) => void; retryMs?: number }): void {
  const retry = o.retryMs ?? 2000;
  let warned = false;
  const open = () => {
    if (o.signal.aborted) return;
    const socket = connect(o.port, o.host);
    const onAbort = () => socket.destroy();
    o.signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => {
      warned = false;
      o.log.info(`reading gpsd at ${o.host}:${o.port}`);
      socket.write('?WATCH={"enable":true,"json":true}\n');
    });
    socket.on('data', lines((line) => readGpsdReport(line, o.intake, o.deviceId), o.tooLong));
    socket.on('error', (e) => {
      if (!warned) o.log.warn(`gpsd at ${o.host}:${o.port}: ${e.message}; trying again every ${retry / 1000} s`);
      warned = true;
    });
    socket.on('close', () => {
      o.signal.removeEventListener('abort', onAbort);
      if (!o.signal.aborted) setTimeout(open, retry).unref();
    });
  };
  open();
}

/** One line of gpsd's JSON: a TPV report with a fix goes to `intake`; one without is counted as `no_fix`, anything else passed over. */
export function readGpsdReport(line: string, intake: FixIntake, deviceId: string | undefined): void {
  if (!line.trim()) return;
  let r: Tpv | { class?: string };
  try {
    r = JSON.parse(line) as Tpv | { class?: string };
  } catch {
    return intake.refuse('malformed', `gpsd sent a line that is not JSON: ${line.slice(0, 60)}`);
  }
  if (r.class !== 'TPV') return;
  const tpv = r as Tpv;
  const id = deviceId ?? `gpsd:${tpv.device ?? 'unknown'}`;
  if ((tpv.mode ?? 0) < 2 || tpv.lat === undefined || tpv.lon === undefined) return intake.refuse('no_fix', `${id}: a TPV report without a fix (mode ${tpv.mode ?? 0})`);
  // gpsd leaves the time out until it has a date (a receiver sending GGA alone never gives one): normal
  // output before a fix is whole, not a clock gone wrong, which `time` counts
  if (!tpv.time) return intake.refuse('no_fix', `${id}: a TPV report without a time (mode ${tpv.mode}): gpsd has no date (the receiver has sent no RMC or ZDA yet)`);
  intake.take({ deviceId: id, t: Date.parse(tpv.time), lon: tpv.lon, lat: tpv.lat, ...(tpv.speed !== undefined && { speed: tpv.speed }), ...(tpv.track !== undefined && { heading: tpv.track }), ...(tpv.eph !== undefined && { accuracy: tpv.eph }) });
}
