import { describe, expect, it } from 'vitest';
import type { ConversationKey } from '../src/conversation-id.ts';
import { CryptoEngine } from '../src/e2e/crypto-engine.ts';
import { decodeProfile, emptyProfile, type ProfileState, type StoredMessage } from '../src/profile.ts';
import { ProfileEncoder } from '../src/profile-encoder.ts';

/**
 * Saves reuse what did not change (issue 15): the stored bytes must still say
 * exactly what the state says, whatever changed in between.
 */

const engineBytes = Uint8Array.of(7, 8, 9);

function message(
  id: string,
  conversation: ConversationKey,
  text: string,
  status?: StoredMessage['status'],
): StoredMessage {
  return {
    id,
    conversation,
    from: 'alice',
    fromDevice: 1,
    text,
    sentAt: 1,
    receivedAt: 2,
    direction: status === undefined ? 'in' : 'out',
    ...(status === undefined ? {} : { status }),
  };
}

/** What a plain `JSON.stringify` of the state reads back as. */
const asStored = (state: ProfileState) => JSON.parse(JSON.stringify(state)) as ProfileState;

describe('ProfileEncoder', () => {
  it('stores what the state holds: escapes, non-ASCII text, fields left undefined, no conversations', () => {
    const encoder = new ProfileEncoder();
    const state = emptyProfile('phone "one"');
    expect(decodeProfile(encoder.encode(state, engineBytes))).toEqual({ state: asStored(state), engine: engineBytes });
    state.account = 'alice';
    state.conversations['user:bob'] = [
      message('m1', 'user:bob', 'quotes " and \\ and \n newlines', 'sent'),
      message('m2', 'user:bob', 'héllo wörld 👋 — 漢字'),
    ];
    state.conversations['group:g"1'] = [message('m3', 'group:g"1', 'in a group')];
    const decoded = decodeProfile(encoder.encode(state, engineBytes));
    expect(decoded.state).toEqual(asStored(state));
    expect(decoded.engine).toEqual(engineBytes);
  });

  it('a reused encoder writes every change: a status changed in place, history dropped and added, new conversations', () => {
    const encoder = new ProfileEncoder();
    const state = emptyProfile('d');
    const history = Array.from({ length: 50 }, (_, i) => message(`m${i}`, 'user:bob', `text ${i}`, 'pending'));
    state.conversations['user:bob'] = history;
    encoder.encode(state, engineBytes);

    history[10]!.status = 'sent';
    history[0]!.status = 'delivered';
    history.splice(0, 3);
    history.push(message('new', 'user:bob', 'a new one', 'pending'));
    state.conversations['user:carol'] = [message('c1', 'user:carol', 'hi carol')];
    state.seenMessages.push('bob/x');
    const decoded = decodeProfile(encoder.encode(state, engineBytes)).state;
    expect(decoded).toEqual(asStored(state));
    expect(decoded.conversations['user:bob']!.map((m) => m.status).slice(0, 8)).toEqual([
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'pending',
      'sent',
    ]);

    delete state.conversations['user:carol'];
    history[5]!.status = 'failed';
    expect(decodeProfile(encoder.encode(state, engineBytes)).state).toEqual(asStored(state));
  });
});

describe("the engine's exported state", () => {
  it('follows prekey changes: what it exports after new or rotated prekeys restores to the same state', async () => {
    const engine = await CryptoEngine.factory().create();
    await engine.generatePreKeys(3, true);
    const keysIn = async (bytes: Uint8Array) => {
      const state = JSON.parse(new TextDecoder().decode(bytes)) as Record<'signed' | 'oneTime' | 'pq', string[]>;
      return { signed: state.signed.length, oneTime: state.oneTime.length, pq: state.pq.length };
    };
    const first = await engine.exportState();
    expect(await keysIn(first)).toEqual({ signed: 1, oneTime: 3, pq: 4 });
    expect(await engine.exportState()).toEqual(first);

    await engine.generatePreKeys(2, false);
    const second = await engine.exportState();
    expect(await keysIn(second)).toEqual({ signed: 1, oneTime: 5, pq: 6 });
    await engine.generatePreKeys(1, true);
    const third = await engine.exportState();
    expect(await keysIn(third)).toEqual({ signed: 2, oneTime: 6, pq: 8 });
    const restored = await CryptoEngine.factory().restore(third);
    expect(await restored.exportState()).toEqual(third);
  });
});
