import { PulseError } from '@pulse/sdk';

/** An error as the page shows it: the SDK's message, with its code when the message alone may not say enough. */
export function describeError(error: unknown): string {
  if (PulseError.is(error, 'UNKNOWN_CONTACT')) return error.message;
  if (PulseError.is(error, 'IDENTITY_CHANGED'))
    return 'Not sent: this contact\'s safety number changed. Open "Safety number", compare the new number with them, and accept it to send again.';
  if (PulseError.is(error, 'UNTRUSTED_DEVICE'))
    return "Not sent: the server lists a device this contact's account did not sign. Nothing was sent to anyone.";
  if (PulseError.is(error, 'LINK_CODE_MISMATCH'))
    return 'No device asking to join shows that code: check it and try again.';
  if (PulseError.is(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
