import { checkLivenessOptions, DEFAULT_HEARTBEAT, DEFAULT_IDLE_TIMEOUT } from './liveness.ts';
import type { StreamChannelOptions } from './stream-channel.ts';
import type { LivenessSettings } from './types.ts';

/** What a network transport's listen or dial options say about the frame channels it makes. */
export function channelOptions(o: LivenessSettings & { maxFrameSize?: number }): StreamChannelOptions {
  checkLivenessOptions(o);
  return { maxFrameSize: o.maxFrameSize, heartbeat: o.heartbeat, idleTimeout: o.idleTimeout, clock: o.clock };
}

/**
 * QUIC's own idle timeout, a second line behind the channel's heartbeat: twice the channel's idle timeout, so
 * the channel's clearer error comes first. With the channel's idle timeout off, QUIC's default (30 s) stays.
 */
export const quicIdleTimeoutFor = (o: LivenessSettings): number | undefined => {
  const idle = o.idleTimeout ?? DEFAULT_IDLE_TIMEOUT;
  return idle > 0 ? 2 * idle : undefined;
};

/** QUIC's keep-alive PINGs: none while the channel's heartbeat keeps the connection busy (0), else QUIC's default. */
export const quicKeepAliveFor = (o: LivenessSettings): number | undefined => ((o.heartbeat ?? DEFAULT_HEARTBEAT) > 0 ? 0 : undefined);
