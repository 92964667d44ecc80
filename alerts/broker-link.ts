import { EventEmitter } from 'node:events';
import type { EmbeddedBroker } from './embedded-broker.ts';

/** What a sink needs of its way to a broker: an mqtt.js client has it, and so does a broker in this process. */
export interface BrokerLink {
  readonly connected: boolean;
  readonly disconnecting: boolean;
  readonly disconnected: boolean;
  publish(topic: string, payload: string, opts: { qos: 0 | 1 | 2; retain: boolean }, done: (err?: Error) => void): unknown;
  on(event: 'connect' | 'close' | 'reconnect', listener: () => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  once(event: 'connect', listener: () => void): unknown;
  endAsync(force?: boolean): Promise<void>;
}

/**
 * A sink's link to the embedded broker of its own process: publishes go straight into the broker, which
 * routes them to its subscribers as it would a client's. Over a socket the same message cost a packet
 * written, read and parsed, and a PUBACK back (a third of the zipper thread's time in the e2e benchmark).
 */
export class InProcessLink extends EventEmitter implements BrokerLink {
  connected = false;
  disconnecting = false;
  disconnected = false;

  constructor(private readonly broker: EmbeddedBroker) {
    super();
    // as a client's: 'connect' comes after the caller has attached its listeners
    queueMicrotask(() => {
      if (this.disconnecting) return;
      this.connected = true;
      this.emit('connect');
    });
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1 | 2; retain: boolean }, done: (err?: Error) => void): void {
    if (!this.connected) return done(new Error('link closed'));
    this.broker.publish(topic, payload, opts, done);
  }

  async endAsync(): Promise<void> {
    if (this.disconnected) return;
    [this.disconnecting, this.connected, this.disconnected] = [true, false, true];
    this.emit('close');
  }
}
