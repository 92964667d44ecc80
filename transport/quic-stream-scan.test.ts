import type { QUICConnection, QUICStream } from '@matrixai/quic';
import { describe, expect, it } from 'vitest';
import { scanStreamsWhenNeeded, writeWaiting } from './quic-stream-scan.ts';

/** quiche's connection as the library holds it, counting the scans asked of it */
class Native {
  scans = { readable: 0, writable: 0 };
  somethingReadable = false;
  isReadable() {
    return this.somethingReadable;
  }
  readable() {
    this.scans.readable++;
    return [0];
  }
  writable() {
    this.scans.writable++;
    return [0];
  }
}

const setup = () => {
  const native = new Native();
  const stream = { resolveWritableP: undefined } as unknown as QUICStream & { resolveWritableP?: () => void };
  scanStreamsWhenNeeded({ conn: native } as unknown as QUICConnection, writeWaiting(stream));
  return { native, stream };
};

describe('scanning a QUIC connection’s streams', () => {
  it('asks quiche for its readable streams only when it says one is readable', () => {
    const { native } = setup();
    expect([...native.readable()]).toEqual([]);
    expect(native.scans.readable).toBe(0);
    native.somethingReadable = true;
    expect([...native.readable()]).toEqual([0]);
    expect(native.scans.readable).toBe(1);
  });

  it('asks for the writable streams only while a write waits for the peer’s credit, and the library’s wake-up still wakes it', () => {
    const { native, stream } = setup();
    expect([...native.writable()]).toEqual([]);
    expect(native.scans.writable).toBe(0);
    let woken = 0;
    stream.resolveWritableP = () => woken++; // what the library does when quiche takes only part of a write
    expect([...native.writable()]).toEqual([0]);
    stream.resolveWritableP?.(); // what the library does for a stream in the writable list
    expect(woken).toBe(1);
    expect([...native.writable()]).toEqual([]);
    expect(native.scans.writable).toBe(1);
    stream.resolveWritableP?.(); // a second wake-up is nothing, as with the library's own promise
    expect(woken).toBe(1);
  });
});
