import { createSocket } from 'node:dgram';
import type { Source } from '../../source/connect-source.ts';
import type { SourceContext } from '../../source/source-module.ts';
import { aborted, FixIntake } from '../fix-intake.ts';
import { GPSD_DEFAULT } from '../ingest-params.ts';
import { listenTcp } from '../tcp-intake.ts';
import { watchGpsd } from './gpsd-client.ts';
import { lines, NmeaStream } from './nmea-stream.ts';

/**
 * `run: builtin:nmea`: GNSS receivers, two ways. `gpsd: host:port` reads a gpsd's JSON reports (gpsd owns
 * the serial/USB receivers and speaks every chipset's dialect; gpsd-client.ts). `tcp: <port>` and
 * `udp: <port>` take raw NMEA 0183 sentences (RMC, GGA; checksum checked; nmea-stream.ts) from receivers
 * and gateways that send them over the network: each TCP connection, or each UDP sender, is a device
 * named `deviceId` when given, else `nmea:<its IP address>`. With none of the three, it reads the local
 * gpsd (127.0.0.1:2947). NMEA has no auth: listen on 127.0.0.1 (the default) or a private network.
 */
/** serve starts once the listeners are bound (source-module.ts) */
export const listens = true;

export default async function nmea(source: Source, ctx: SourceContext): Promise<void> {
  const p = ctx.params as { host?: string; gpsd?: string; tcp?: number; udp?: number; deviceId?: string; tag?: string };
  const intake = new FixIntake(source, ctx, 'nmea', p.tag);
  const host = p.host ?? '127.0.0.1';
  const tooLong = (why: string) => intake.refuse('malformed', why);
  const gpsd = p.gpsd ?? (p.tcp === undefined && p.udp === undefined ? GPSD_DEFAULT : undefined);
  if (gpsd) {
    const i = gpsd.lastIndexOf(':');
    watchGpsd({ host: gpsd.slice(0, i), port: Number(gpsd.slice(i + 1)), deviceId: p.deviceId, intake, log: ctx.log, signal: ctx.signal, tooLong });
  }
  if (p.tcp !== undefined) {
    await listenTcp({ host, port: p.tcp }, (socket) => {
      const stream = new NmeaStream(p.deviceId ?? `nmea:${socket.remoteAddress}`, intake);
      socket.on('data', lines((l) => stream.line(l), tooLong));
      socket.on('close', () => stream.end());
    }, ctx.signal, ctx.log, 'NMEA sentences');
  }
  if (p.udp !== undefined) {
    const streams = new Map<string, { feed: (b: Buffer) => void }>();
    const udp = createSocket('udp4');
    udp.on('message', (msg, from) => {
      let s = streams.get(from.address);
      if (!s) {
        const stream = new NmeaStream(p.deviceId ?? `nmea:${from.address}`, intake);
        // one datagram is one or more whole sentences; a last one without its newline still counts
        const feed = lines((l) => stream.line(l), tooLong);
        streams.set(from.address, (s = { feed: (b) => feed(b.at(-1) === 10 ? b : Buffer.concat([b, Buffer.from('\n')])) }));
      }
      s.feed(msg);
    });
    await new Promise<void>((resolve, reject) => udp.once('error', reject).bind(p.udp, host, () => resolve()));
    ctx.log.info(`listening for NMEA sentences on udp://${host}:${udp.address().port}`);
    ctx.signal.addEventListener('abort', () => udp.close(), { once: true });
  }
  ctx.listening?.();
  await aborted(ctx.signal);
  intake.close();
}
