/** What every decoder throws on bad bytes, so callers can tell a malformed peer from a bug. */
export type FrameErrorCode = 'truncated' | 'too-large' | 'bad-varint' | 'unknown-type' | 'bad-field' | 'bad-batch';

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
  }
}
