/**
 * Stable codes carried by `error` and `close` frames (PROTOCOL.md, "Errors").
 * Clients branch on these; new codes may be added, existing ones never change
 * meaning. ProtoError codes (PROTO_*) travel in the same field.
 */
export const APP_ERROR_CODES = [
  'AUTH_REQUIRED', // a request that needs an authenticated connection came before auth_ok
  'AUTH_FAILED', // bad signature, unknown device, expired or forged token
  'AUTH_RATE_LIMITED', // too many authentication attempts
  'ACCOUNT_EXISTS', // register: the name is taken
  'NOT_FOUND', // unknown account, device or channel
  'FORBIDDEN', // authenticated, but not allowed (channel ACL, foreign device)
  'DEVICES_MISMATCH', // send: the envelopes do not address exactly the account's devices
  'QUEUE_FULL', // the recipient device's queue, or its account's queued bytes, holds the maximum
  'QUOTA_EXCEEDED', // send: the sender's undelivered envelopes hold its byte quota
  'STORAGE_FULL', // send: the server's storage is above its high-water mark (acks and purges go on)
  'ENVELOPE_EXPIRED', // (no id) envelopes this device sent expired undelivered (TTL); the message lists their ids
  'UNAUTHORIZED', // sealed_send: the delivery token is not the recipient's (or the recipient has none, or no such account)
  'PAYLOAD_TOO_LARGE', // payload above the server's max_message_size
  'RATE_LIMITED', // per-connection message rate exceeded; retryAfterMs says when to retry
  'TOO_MANY_CHANNELS', // subscribe beyond max_channels per connection
  'PREKEYS_EXHAUSTED', // a device has no signed prekey to hand out
  'BAD_SIGNATURE', // an uploaded prekey's signature does not verify
  'DEVICE_LIST_STALE', // device_list_update: the version is not above the stored list's
  'DEVICE_LIST_INVALID', // a device list whose signature does not verify, or a change the server refuses
  'LINK_NOT_FOUND', // device_list_update: no such pending link (expired, or the new device left)
  'SLOW_CONSUMER', // close: the connection's send queue overflowed
  'HEARTBEAT_TIMEOUT', // close: no frame within the heartbeat timeout
  'IDLE_TIMEOUT', // close: an anonymous connection sent no sealed_send within the server's anonymous_idle
  'SERVER_SHUTDOWN', // close: the server is draining
  'SERVER_BUSY', // close: connection limits reached
  'SESSION_REPLACED', // close: the same device authenticated on a newer connection
  'UNAVAILABLE', // the server cannot reach its store (cluster mode: NATS); the request was not carried out, retry later
  'INTERNAL', // an unexpected server fault (details are in the server log, not here)
] as const;

export type AppErrorCode = (typeof APP_ERROR_CODES)[number];
