import { CONTROL_TAG, decodeReply, encodeControl, type ControlReply, type ControlRequest } from '../zipper/control.ts';
import { ZipperClient, type ClientOptions } from './client.ts';

/** A connection to the zipper's control channel, for requests one after another (`geoflux logs --follow`). */
export interface ControlSession {
  ask(req: ControlRequest, timeout?: number): Promise<ControlReply>;
  close(): Promise<void>;
}

/** The connection ended before the zipper answered: the request may or may not have been carried out. */
export class ServeWentAwayError extends Error {
  override readonly name = 'ServeWentAwayError';
}

/**
 * Connects as a `control` client with the control token (zipper/control.ts): each request is written on
 * the control tag and answered by the reply that carries its seq. A refused handshake (a wrong token, a
 * workflow without `control:`) rejects with the zipper's reason. The session does not outlive its
 * connection: a request is never resent, since the serve that answers next may not be the one asked (a
 * deploy replayed into a restarted serve), so a lost connection fails the requests it leaves unanswered.
 */
export async function openControl(opts: Omit<ClientOptions, 'name'>): Promise<ControlSession> {
  const waiting = new Map<number, { resolve: (r: ControlReply) => void; reject: (e: Error) => void }>();
  const client = new ZipperClient('control', { ...opts, name: 'geoflux-control', reconnect: false }, [], (f) => {
    if (f.tag === CONTROL_TAG) waiting.get(f.seq)?.resolve(decodeReply(f.payload));
  });
  await client.connect();
  let gone: ServeWentAwayError | undefined;
  void client.ended.then((err) => {
    gone = new ServeWentAwayError(`serve went away before it answered (${opts.zipper}${err ? `: ${err.message}` : ''})`);
    for (const w of waiting.values()) w.reject(gone);
  });
  return {
    async ask(req, timeout = 120_000) {
      if (gone) throw gone;
      const seq = client.nextSeq;
      let timer: NodeJS.Timeout | undefined;
      try {
        return await new Promise<ControlReply>((resolve, reject) => {
          waiting.set(seq, { resolve, reject });
          timer = setTimeout(() => reject(new Error(`no answer from ${opts.zipper} within ${timeout / 1000} s`)), timeout);
          client.writeFrame(CONTROL_TAG, new Uint8Array(0), encodeControl(req), 1);
        });
      } finally {
        clearTimeout(timer);
        waiting.delete(seq);
      }
    },
    close: () => client.close(),
  };
}

/** One request over the control channel and its answer: connect, ask, hang up. */
export async function controlRequest(opts: Omit<ClientOptions, 'name'>, req: ControlRequest, timeout = 120_000): Promise<ControlReply> {
  const session = await openControl(opts);
  try {
    return await session.ask(req, timeout);
  } finally {
    await session.close();
  }
}
