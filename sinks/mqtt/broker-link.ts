import { EventEmitter } from 'node:events';
import type { EmbeddedBroker } from '../../alerts/embedded-broker.ts';

/** What a sink needs of its way to a broker: an mqtt.js client has it, and so does a broker in this process. */
export interface BrokerLink {
  readonly connected: boolean;
  readonly disconnecting: boolean;
  readonly disconnected: boolean;
  /** messages the sink may have in flight at once (default: the sink's own limit) */
  readonly maxInflight?: number;
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
  // below aedes' own concurrency (100): past it, its emitter queues messages and works the queue off
  // recursively, one stack frame deeper per message, which a backlog of thousands overflows
  readonly maxInflight = 64;

  constructor(private readonly broker: EmbeddedBroker) {
    super();
    // a broker closed under the sink is a broker lost: the sink buffers, counts, and says so
    broker.onClose(() => {
      if (!this.connected) return;
      this.connected = false;
      this.emit('close');
    });
    // as a client's: 'connect' comes after the caller has attached its listeners
    queueMicrotask(() => {
      if (this.disconnecting) return;
      this.connected = true;
      this.emit('connect');
    });
  }

  publish(topic: string, payload: string, opts: { qos: 0 | 1 | 2; retain: boolean }, done: (err?: Error) => void): void {
    if (!this.connected) return done(new Error('link closed'));
    // what the broker checks of a client's PUBLISH, and does not of its own
    if (!topic || /[+#]/.test(topic) || topic.startsWith('$')) return done(new Error(`not a topic to publish to: "${topic}"`));
    this.broker.publish(topic, payload, opts, done);
  }

  async endAsync(): Promise<void> {
    if (this.disconnected) return;
    [this.disconnecting, this.connected, this.disconnected] = [true, false, true];
    this.emit('close');
  }
}
