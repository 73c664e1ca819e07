import { PulseError } from '@pulse/sdk';

/** An error as the page shows it: the SDK's message, with its code when the message alone may not say enough. */
export function describeError(error: unknown): string {
  if (PulseError.is(error, 'UNKNOWN_CONTACT')) return error.message;
  if (PulseError.is(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
