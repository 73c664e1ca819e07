import { type Content, checkText, randomId } from './content.ts';
import { ConversationId } from './conversation-id.ts';
import type { Groups } from './groups.ts';
import type { History } from './history.ts';
import type { ClientLimits } from './limits.ts';
import type { Lock } from './lock.ts';
import type { StoredMessage } from './profile.ts';

export interface GroupMessagesDeps {
  readonly groups: Groups;
  readonly history: History;
  readonly lock: Lock;
  readonly limits: ClientLimits;
  /** This account and device; NOT_REGISTERED before registration. */
  readonly self: () => { account: string; deviceId: number };
  readonly persist: () => Promise<void>;
}

/**
 * The group send path: a text is encrypted once with this device's sender key
 * and fanned out to every member device (groups.ts), all under the lock; it is
 * stored as sent once every member account's `send` was accepted.
 */
export class GroupMessages {
  readonly #deps: GroupMessagesDeps;

  constructor(deps: GroupMessagesDeps) {
    this.#deps = deps;
  }

  /** Sends `text` to the group with this id or (unique) name. */
  async sendText(groupIdOrName: string, text: string): Promise<StoredMessage> {
    const { groups, history, lock, limits, persist } = this.#deps;
    return lock.run(async () => {
      const self = this.#deps.self();
      checkText(text, limits);
      const group = groups.require(groupIdOrName);
      const content: Content = { t: 'text', id: randomId(), text, sentAt: Date.now(), group: group.id };
      await groups.send(group, content);
      const stored: StoredMessage = {
        id: content.id,
        conversation: ConversationId.key(ConversationId.group(group.id)),
        from: self.account,
        fromDevice: self.deviceId,
        text,
        sentAt: content.sentAt,
        receivedAt: content.sentAt,
        direction: 'out',
        status: 'sent',
        group: group.id,
      };
      history.add(stored);
      await persist();
      return stored;
    });
  }
}
