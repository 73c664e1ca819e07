import { PulseError } from '../errors.ts';

/**
 * Who may subscribe to and publish on a channel (README.md "Channel rules").
 * The first path segment starts with a namespace:
 *
 *   public:<topic>[/...]     any authenticated device subscribes and publishes
 *   user:<account>[/...]     anyone subscribes; only devices of <account> publish
 *   private:<account>[/...]  only devices of <account> subscribe and publish
 *
 * Any other channel is refused with FORBIDDEN. Payloads are end-to-end encrypted
 * by clients; the rule only limits who can reach whom.
 */
export type ChannelAction = 'subscribe' | 'publish';

export function authorizeChannel(channel: string, account: string, action: ChannelAction): void {
  const first = channel.split('/', 1)[0]!;
  const colon = first.indexOf(':');
  const namespace = colon < 0 ? '' : first.slice(0, colon);
  const owner = first.slice(colon + 1);
  const allowed =
    owner.length > 0 &&
    (namespace === 'public' ||
      (namespace === 'user' && (action === 'subscribe' || owner === account)) ||
      (namespace === 'private' && owner === account));
  if (!allowed) {
    const rule =
      namespace === 'user' || namespace === 'private'
        ? `only account ${owner} may ${action} on ${namespace}: channels it owns`
        : 'channel names start with public:, user:<account> or private:<account>';
    throw new PulseError('FORBIDDEN', `may not ${action} to ${channel}: ${rule}`);
  }
}
