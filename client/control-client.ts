import { CONTROL_TAG, decodeReply, encodeControl, type ControlReply, type ControlRequest } from '../zipper/control.ts';
import { ZipperClient, type ClientOptions } from './client.ts';

/**
 * One request over the zipper's control channel (zipper/control.ts) and its answer: connect as a `control`
 * client with the control token, write the request, wait for the reply that carries its seq, hang up.
 * A refused handshake (a wrong token, a workflow without `control:`) rejects with the zipper's reason.
 */
export async function controlRequest(opts: Omit<ClientOptions, 'name'>, req: ControlRequest, timeout = 120_000): Promise<ControlReply> {
  let settle!: (r: ControlReply) => void;
  const replied = new Promise<ControlReply>((r) => (settle = r));
  let seq = 0;
  const client = new ZipperClient('control', { ...opts, name: 'geoflux-control' }, [], (f) => {
    if (f.tag === CONTROL_TAG && f.seq === seq) settle(decodeReply(f.payload));
  });
  await client.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    seq = client.nextSeq;
    client.writeFrame(CONTROL_TAG, new Uint8Array(0), encodeControl(req), 1);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from ${opts.zipper} within ${timeout / 1000} s`)), timeout);
    });
    return await Promise.race([replied, late]);
  } finally {
    clearTimeout(timer);
    await client.close();
  }
}
