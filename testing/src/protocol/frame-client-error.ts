/** Why a `FrameClient` wait failed: stable codes a test can match on. */
export type FrameClientErrorCode =
  /** Nothing matching arrived within the wait. */
  | 'TIMEOUT'
  /** The connection closed without what was waited for. */
  | 'CLOSED'
  /** The server answered a request with another frame (often an `error`). */
  | 'UNEXPECTED_ANSWER';

export class FrameClientError extends Error {
  override readonly name = 'FrameClientError';
  readonly code: FrameClientErrorCode;

  constructor(code: FrameClientErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
