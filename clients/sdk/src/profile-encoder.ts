import type { ProfileState, StoredMessage } from './profile.ts';

const encoder = new TextEncoder();
/** "PP" and the layout version: magic (3) || JSON length (u32) || profile JSON || engine state bytes. */
export const PROFILE_MAGIC = [0x50, 0x50, 0x01] as const;

/**
 * Encodes a profile to the bytes a vault stores (the layout above) without
 * serializing again what did not change since the last save. The history is
 * most of a profile (up to `maxHistoryPerConversation` messages per
 * conversation, each with its text: about 1.4 MB for 1,000 texts of 1 KiB),
 * and a burst of messages saves many times (issue 15): stringifying and
 * UTF-8-encoding all of it cost 5–15 ms a save here. Each message's JSON bytes
 * are kept and reused while the message object and its `status` (the only
 * field changed in place, profile.ts) stay the same; the rest of the profile
 * is stringified each time. The JSON is what `JSON.stringify(state)` gives, up
 * to key order, so `decodeProfile` reads it unchanged and so do older builds.
 */
export class ProfileEncoder {
  readonly #messages = new WeakMap<StoredMessage, { status: StoredMessage['status']; bytes: Uint8Array }>();

  encode(state: ProfileState, engine: Uint8Array): Uint8Array {
    const { conversations, ...rest } = state;
    const head = JSON.stringify(rest);
    const chunks: Uint8Array[] = [encoder.encode(`${head.slice(0, -1)},"conversations":{`)];
    let first = true;
    for (const [key, messages] of Object.entries(conversations)) {
      chunks.push(encoder.encode(`${first ? '' : ','}${JSON.stringify(key)}:[`));
      first = false;
      messages.forEach((message, index) => {
        const bytes = this.#bytesOf(message); // `,{…}`: the array's first message does not take the separator
        chunks.push(index === 0 ? bytes.subarray(1) : bytes);
      });
      chunks.push(CLOSE_ARRAY);
    }
    chunks.push(CLOSE_TWO_OBJECTS);
    const jsonLength = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const out = new Uint8Array(PROFILE_MAGIC.length + 4 + jsonLength + engine.length);
    out.set(PROFILE_MAGIC);
    new DataView(out.buffer).setUint32(PROFILE_MAGIC.length, jsonLength);
    let offset = PROFILE_MAGIC.length + 4;
    for (const chunk of chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    out.set(engine, offset);
    return out;
  }

  #bytesOf(message: StoredMessage): Uint8Array {
    const cached = this.#messages.get(message);
    if (cached !== undefined && cached.status === message.status) return cached.bytes;
    const bytes = encoder.encode(`,${JSON.stringify(message)}`);
    this.#messages.set(message, { status: message.status, bytes });
    return bytes;
  }
}

const CLOSE_ARRAY = encoder.encode(']');
const CLOSE_TWO_OBJECTS = encoder.encode('}}');
