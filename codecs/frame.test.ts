import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeFrame, encodeFrame } from './frame.ts';
import { FrameDecoder } from './frame-decoder.ts';
import { FrameError } from './frame-error.ts';
import type { Frame } from './frame-types.ts';

const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = fc.uint8Array({ maxLength: 300 });
const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({
    type: fc.constant('handshake' as const),
    name: fc.string(),
    kind: fc.constantFrom('source' as const, 'sfn' as const, 'zipper' as const),
    clientId: fc.string(),
    token: fc.string(),
    observe: fc.array(fc.string({ minLength: 1 }), { maxLength: 5 }),
    version: fc.nat(),
  }),
  fc.record({
    type: fc.constant('handshake-ack' as const),
    zipper: fc.string(),
    // tag names as workflows allow them (msgpackr renames a "__proto__" key, by design)
    tags: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_-]{0,15}$/), fc.nat()),
    lastSeq: u53,
    maxFrame: u53,
  }),
  fc.record({ type: fc.constant('rejected' as const), reason: fc.string() }),
  fc.record({ type: fc.constant('data' as const), tag: fc.nat({ max: 0xffffffff }), seq: u53, from: fc.string(), meta: bytes, payload: bytes }),
  fc.record({ type: fc.constant('goaway' as const), reason: fc.string() }),
  fc.record({ type: fc.constant('ping' as const), id: u53 }),
  fc.record({ type: fc.constant('pong' as const), id: u53 }),
  fc.record({ type: fc.constant('ack' as const), seq: u53 }),
);

describe('frame codec', () => {
  it('round-trips every frame type', () => {
    fc.assert(
      fc.property(frameArb, (frame) => {
        expect(decodeFrame(encodeFrame(frame))).toEqual(frame);
      }),
      { numRuns: 2000 },
    );
  });

  it('cuts a stream into the same frames whatever the chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (frames, cuts) => {
        const all = new Uint8Array(Buffer.concat(frames.map(encodeFrame)));
        const dec = new FrameDecoder();
        const out: Frame[] = [];
        let pos = 0;
        for (let i = 0; pos < all.length; i++) {
          const n = cuts[i % cuts.length];
          out.push(...dec.push(all.subarray(pos, pos + n)));
          pos += n;
        }
        expect(out).toEqual(frames);
        expect(dec.pending).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('gives a data payload as a view of the input, not a copy', () => {
    const bytes = encodeFrame({ type: 'data', tag: 16, seq: 1, from: '', meta: new Uint8Array(0), payload: new Uint8Array(1000).fill(7) });
    const f = decodeFrame(bytes) as Extract<Frame, { type: 'data' }>;
    expect(f.payload.buffer).toBe(bytes.buffer);
  });

  it('throws a FrameError on random bytes, never hangs, never allocates past the limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (garbage) => {
        try {
          decodeFrame(garbage, 1024);
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
        const dec = new FrameDecoder(1024);
        try {
          dec.push(garbage);
        } catch (e) {
          expect(e).toBeInstanceOf(FrameError);
        }
        expect(dec.pending).toBeLessThanOrEqual(garbage.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses a header that announces more than the max frame size before buffering it', () => {
    const dec = new FrameDecoder(1024);
    const header = Uint8Array.of(0x3f, 0x80, 0x80, 0x80, 0x08); // data frame of 16 MiB
    expect(() => dec.push(header)).toThrow(/exceeds the 1024-byte limit/);
    expect(() => decodeFrame(Uint8Array.of(0x99, 0))).toThrow(/unknown frame type 0x99/);
    expect(() => decodeFrame(Uint8Array.of(0x35, 5, 1, 9, 0))).toThrow(FrameError);
  });

  it('skips fields it does not know, so newer peers can add them', () => {
    const ping = encodeFrame({ type: 'ping', id: 5 });
    const withExtra = Uint8Array.of(ping[0], ping[1] + 4, ...ping.subarray(2), 0x7e, 2, 0xaa, 0xbb);
    expect(decodeFrame(withExtra)).toEqual({ type: 'ping', id: 5 });
  });
});
