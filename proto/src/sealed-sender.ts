/**
 * Sealed sender on the wire (PROTOCOL.md "Sealed sender"): the sizes of what the
 * frames carry. The server routes a sealed envelope by recipient only; the
 * sender's name, device and certificate are inside the end-to-end encrypted payload.
 */

/**
 * A delivery token: 32 bytes the recipient derives from its profile key and
 * shares with its contacts inside end-to-end encrypted content (Signal's
 * unidentified access key). A `sealed_send` must present the recipient's.
 */
export const DELIVERY_TOKEN_BYTES = 32;

/**
 * Largest sender certificate the server hands out (libsignal's SenderCertificate
 * encoding: the account, device id, expiry, the 33-byte identity key, the
 * embedded server certificate and two 64-byte signatures come to about 300 bytes).
 */
export const MAX_SENDER_CERTIFICATE_BYTES = 1024;
