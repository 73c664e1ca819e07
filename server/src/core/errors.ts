import type { AppErrorCode, ProtoErrorCode } from '@pulse/proto';

export type PulseErrorCode = AppErrorCode | ProtoErrorCode;

/**
 * A refusal the client is told about: it becomes an `error` frame carrying `code`
 * (PROTOCOL.md "Errors"). Anything else thrown while handling a frame is a server
 * fault and is reported as INTERNAL without details.
 */
export class PulseError extends Error {
  override readonly name = 'PulseError';
  readonly code: PulseErrorCode;
  readonly retryAfterMs: number | undefined;
  constructor(code: PulseErrorCode, message: string, retryAfterMs?: number) {
    super(message);
    this.code = code;
    this.retryAfterMs = retryAfterMs;
  }
}
