import { checkLivenessOptions, DEFAULT_HEARTBEAT, DEFAULT_IDLE_TIMEOUT, MAX_PATIENCE_FACTOR } from './liveness.ts';
import type { StreamChannelOptions } from './stream-channel.ts';
import type { LivenessSettings } from './types.ts';

/** What a network transport's listen or dial options say about the frame channels it makes. */
export function channelOptions(o: LivenessSettings & { maxFrameSize?: number }): StreamChannelOptions {
  checkLivenessOptions(o);
  return { maxFrameSize: o.maxFrameSize, heartbeat: o.heartbeat, idleTimeout: o.idleTimeout, clock: o.clock };
}

/**
 * QUIC's own idle timeout, a second line behind the channel's heartbeat: an idleTimeout beyond the most patience
 * the channel gives (MAX_PATIENCE_FACTOR idleTimeouts), so the channel judges first. quiche's idle timer runs
 * before the datagrams queued behind a stall of our loop are read: at twice idleTimeout, as it was, any stall of
 * ours over 4 s ended every connection however alive the peers; now one over 14 s does. With the channel's idle
 * timeout off, QUIC's default (30 s) stays.
 */
export const quicIdleTimeoutFor = (o: LivenessSettings): number | undefined => {
  const idle = o.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  return idle > 0 ? (2 + MAX_PATIENCE_FACTOR) * idle : undefined;
};

/** QUIC's keep-alive PINGs: none while the channel's heartbeat keeps the connection busy (0), else QUIC's default. */
export const quicKeepAliveFor = (o: LivenessSettings): number | undefined => ((o.heartbeat ?? DEFAULT_HEARTBEAT) > 0 ? 0 : undefined);
