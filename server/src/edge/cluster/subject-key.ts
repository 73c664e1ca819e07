import { createHmac } from 'node:crypto';

/**
 * The key of one family of hashed NATS subject names (`pulse.device.<hash>`,
 * `pulse.channels.<hash>`). With `[cluster] subject_key` set (the same secret on
 * every node), each family gets HMAC-SHA256(secret, purpose), so the NATS operator
 * cannot confirm a guessed account or channel name; without it, the purpose string
 * itself is the key: subjects then hide names from a casual look only.
 */
export function subjectKey(secret: string, purpose: 'pulse device subjects' | 'pulse channel subjects'): Uint8Array {
  if (secret === '') return new TextEncoder().encode(purpose);
  return new Uint8Array(createHmac('sha256', secret).update(purpose).digest());
}
