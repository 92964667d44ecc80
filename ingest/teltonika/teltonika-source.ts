import type { Socket } from 'node:net';
import type { Source } from '../../source/connect-source.ts';
import type { SourceContext } from '../../source/source-module.ts';
import { aborted, FixIntake, KMH } from '../fix-intake.ts';
import { DEFAULT_PORTS, listenAddress } from '../ingest-params.ts';
import { listenTcp } from '../tcp-intake.ts';
import { decodePacket, packetLength } from './avl-packet.ts';

/**
 * `run: builtin:teltonika`: Teltonika trackers (FMB, FMC, FMM…) over TCP, Codec 8 and 8 Extended, on `port`
 * (default 5027, Traccar's). A connection starts with the IMEI (2-byte length, ASCII digits), answered
 * 0x01 to accept or 0x00 to refuse (and closed); then AVL packets (avl-packet.ts), each answered with the
 * number of its records as a 4-byte integer once they are taken, or 0 when its CRC or layout is wrong, so
 * the tracker sends it again. Records without satellites (the tracker's last known position, not a fix) are
 * acknowledged and counted as `no_fix`, not written. Auth: `imeis`, the IMEIs let in (the protocol has no
 * other; a tracker's IMEI is printed on it, so run it on a private APN or network).
 */

/** no tracker sends more in one packet (the document's largest is 1,280 bytes): anything past it is not Teltonika */
export const MAX_PACKET = 64 * 1024;

const ACCEPT = Buffer.from([1]);
const REFUSE = Buffer.from([0]);
const ack = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export function teltonikaConnection(intake: FixIntake, imeis: Set<string> | undefined): (socket: Socket) => void {
  return (socket) => {
    let imei: string | undefined;
    let buf: Buffer = Buffer.alloc(0);
    const drop = (reason: 'malformed' | 'auth', message: string, answer?: Buffer) => {
      intake.refuse(reason, `${imei ? `IMEI ${imei}` : socket.remoteAddress}: ${message}`);
      if (answer) socket.end(answer);
      else socket.end();
    };
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        if (imei === undefined) {
          if (buf.length < 2) return;
          const n = buf.readUInt16BE(0);
          if (buf.length < 2 + n) return;
          const text = buf.subarray(2, 2 + n).toString('latin1');
          buf = buf.subarray(2 + n);
          if (!/^\d{1,20}$/.test(text)) return drop('malformed', `a login that is not an IMEI (${JSON.stringify(text.slice(0, 40))})`, REFUSE);
          if (imeis && !imeis.has(text)) return drop('auth', `IMEI ${text} is not in imeis`, REFUSE);
          imei = text;
          socket.write(ACCEPT);
          continue;
        }
        let size: number | undefined;
        try {
          size = packetLength(buf);
        } catch (e) {
          return drop('malformed', (e as Error).message);
        }
        if (size === undefined) return;
        if (size > MAX_PACKET) return drop('malformed', `a packet of ${size} bytes (at most ${MAX_PACKET})`);
        if (buf.length < size) return;
        const packet = buf.subarray(0, size);
        buf = buf.subarray(size);
        const d = decodePacket(packet);
        if ('error' in d) {
          intake.refuse('malformed', `IMEI ${imei}: ${d.error}`);
          socket.write(ack(0));
          continue;
        }
        for (const r of d.records) {
          if (r.satellites === 0) intake.refuse('no_fix', `IMEI ${imei}: a record without satellites at ${new Date(r.t).toISOString()}`);
          else intake.take({ deviceId: imei, t: r.t, lon: r.lon, lat: r.lat, speed: r.speed * KMH, heading: r.angle });
        }
        socket.write(ack(d.records.length));
      }
    });
  };
}

/** serve starts once the listeners are bound (source-module.ts) */
export const listens = true;

export default async function teltonika(source: Source, ctx: SourceContext): Promise<void> {
  const intake = new FixIntake(source, ctx, 'teltonika', ctx.params.tag as string | undefined);
  const imeis = ctx.params.imeis ? new Set((ctx.params.imeis as unknown[]).map(String)) : undefined;
  await listenTcp(listenAddress(ctx.params, DEFAULT_PORTS.teltonika), teltonikaConnection(intake, imeis), ctx.signal, ctx.log, 'Teltonika trackers');
  // the protocol has no secret: without an allow-list, any tracker that knows the port is let in, and says so
  if (!imeis) ctx.log.warn('any IMEI is let in: set imeis: [...] to let in only your trackers');
  ctx.listening?.();
  await aborted(ctx.signal);
  intake.close();
}
