import { clearLine, createInterface, cursorTo, emitKeypressEvents } from 'node:readline';
import type { PulseClient, StoredMessage } from '@pulse/sdk';
import { ConversationId, PulseError } from '@pulse/sdk';
import { describeError } from './exit-codes.ts';
import { deviceAddedLine, deviceRemovedLine, messageLine } from './format.ts';

const HELP = `Commands:
  /to NAME        talk to NAME            /group NAME   talk in group NAME
  /who            who is online           /list         conversations
  /history        last messages again     /verify       safety numbers of this contact
  /transport      the connection in use   /quit         leave (Ctrl-D too)
Anything else is sent as a message.`;

/** Typing stops being shown this long after the last keystroke (and is re-sent at most this often). */
const TYPING_MS = 3_000;

/** The conversation the prompt talks to: an account, or a group (by its name, for display). */
interface Target {
  readonly conversation: ConversationId;
  readonly name: string;
}

/**
 * The interactive conversation view: incoming messages appear above the input
 * line as they arrive, with presence, typing and the transport in the prompt.
 */
export async function runChat(client: PulseClient, initial: string | undefined): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdout.isTTY });
  let target: Target | undefined;
  const typingFrom = new Map<string, ReturnType<typeof setTimeout>>();
  let typingSentAt = 0;

  const groupName = (id: string | undefined) => (id === undefined ? undefined : client.findGroup(id)?.name);
  const print = (line: string) => {
    if (process.stdout.isTTY) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
    }
    console.log(line);
    refreshPrompt();
  };
  const refreshPrompt = () => {
    const transport = client.status.state === 'connected' ? client.status.transport : client.status.state;
    let where = 'no conversation';
    if (target?.conversation.kind === 'user') where = `${target.name}${client.isOnline(target.name) ? ' ●' : ' ○'}`;
    if (target?.conversation.kind === 'group') where = `#${target.name}`;
    const here = target === undefined ? undefined : ConversationId.key(target.conversation);
    const typing = [...typingFrom.keys()].filter((key) => key.startsWith(`${here}|`));
    const typingNote = typing.length > 0 ? ` (${typing.map((k) => k.split('|')[1]).join(', ')} typing…)` : '';
    rl.setPrompt(`[${transport}] ${where}${typingNote} > `);
    rl.prompt(true);
  };
  const select = async (name: string) => {
    const group = client.findGroup(name);
    if (group !== undefined) {
      target = { conversation: ConversationId.group(group.id), name: group.name };
    } else {
      target = { conversation: ConversationId.user(name), name };
      await client.watchPresence(name).catch(() => {});
    }
    print(`— conversation with ${target.conversation.kind === 'group' ? `#${target.name}` : target.name} —`);
    for (const m of client.messages(target.conversation).slice(-20)) print(messageLine(m, groupName(m.group)));
  };

  client.on('message', (m: StoredMessage) => {
    const here = target !== undefined && m.conversation === ConversationId.key(target.conversation);
    const key = `${m.conversation}|${m.from}`;
    clearTimeout(typingFrom.get(key));
    typingFrom.delete(key);
    print(
      here
        ? messageLine(m, groupName(m.group))
        : `  (new message from ${m.from}${m.group ? ` in #${groupName(m.group)}` : ''})`,
    );
  });
  client.on('receipt', () => refreshPrompt());
  client.on('typing', ({ conversation, from, typing }) => {
    const key = `${conversation}|${from}`;
    clearTimeout(typingFrom.get(key));
    typingFrom.delete(key);
    if (typing)
      typingFrom.set(
        key,
        setTimeout(() => {
          typingFrom.delete(key);
          refreshPrompt();
        }, TYPING_MS * 2),
      );
    refreshPrompt();
  });
  client.on('presence', ({ account, online }) => {
    if (target?.conversation.kind === 'user' && account === target.name)
      print(`  ${account} is ${online ? 'online' : 'offline'}`);
  });
  client.on('status', (status) => {
    if (status.state === 'reconnecting') print(`  connection lost (${status.lastError ?? 'unknown'}); reconnecting…`);
    if (status.state === 'connected') print(`  connected via ${status.transport}`);
  });
  client.on('identity_changed', ({ account }) => {
    print(`  ⚠ the identity key of ${account} changed — check /verify before trusting it`);
  });
  client.on('device_added', (event) => print(`  ${deviceAddedLine(event)}`));
  client.on('device_removed', (event) => print(`  ${deviceRemovedLine(event)}`));
  client.on('link_request', ({ deviceName }) =>
    print(`  a new device "${deviceName}" asks to join this account: approve it with pulse-chat approve CODE`),
  );
  client.on('problem', ({ from, reason }) => print(`  ⚠ a message from ${from} could not be read: ${reason}`));

  if (process.stdin.isTTY) {
    emitKeypressEvents(process.stdin, rl);
    process.stdin.on('keypress', () => {
      const now = Date.now();
      if (target === undefined || now - typingSentAt < TYPING_MS) return;
      typingSentAt = now;
      void client.setTyping(target.conversation, true);
    });
  }

  print(
    `pulse-chat — ${client.account} (device ${client.deviceId}), connected via ${client.status.transport}. /help for commands.`,
  );
  const unread = await client.takeUnread();
  if (unread.length > 0) {
    const from = [...new Set(unread.map((m) => (m.group === undefined ? m.from : `#${groupName(m.group)}`)))];
    print(`  ${unread.length} new message${unread.length === 1 ? '' : 's'} from ${from.join(', ')}`);
  }
  if (initial !== undefined) await select(initial);

  for await (const line of rl) {
    const text = line.trim();
    if (text === '') {
      refreshPrompt();
      continue;
    }
    try {
      if (text.startsWith('/')) {
        const [command, ...rest] = text.split(/\s+/);
        const argument = rest.join(' ');
        if (command === '/quit' || command === '/exit') break;
        await runCommand(command!, argument);
        continue;
      }
      if (target === undefined) {
        print('  pick a conversation first: /to NAME or /group NAME');
        continue;
      }
      typingSentAt = 0;
      const sent =
        target.conversation.kind === 'group'
          ? await client.sendGroupText(target.name, text)
          : await client.sendText(target.name, text);
      if (process.stdout.isTTY) process.stdout.write('\x1b[1A'); // replace the echoed input with the chat line
      print(messageLine(sent, groupName(sent.group)));
    } catch (error) {
      print(`  ✗ ${describeError(error)}`);
    }
  }
  rl.close();

  async function runCommand(command: string, argument: string): Promise<void> {
    switch (command) {
      case '/help':
        print(HELP);
        return;
      case '/to':
      case '/group':
        if (argument === '') throw new PulseError('BAD_INPUT', `usage: ${command} NAME`);
        await select(argument);
        return;
      case '/who': {
        const names = new Set([...client.contacts()]);
        if (names.size === 0) print('  no contacts yet');
        for (const name of names) print(`  ${client.isOnline(name) ? '●' : '○'} ${name}`);
        return;
      }
      case '/list':
        for (const c of client.conversations()) print(`  ${c.title}${c.last ? `: ${c.last.text.slice(0, 40)}` : ''}`);
        return;
      case '/history':
        if (target !== undefined) {
          await select(target.conversation.kind === 'group' ? target.conversation.groupId : target.name);
        }
        return;
      case '/verify': {
        if (target?.conversation.kind !== 'user')
          throw new PulseError('BAD_INPUT', '/verify works in a 1:1 conversation');
        const safety = await client.safetyNumber(target.name);
        print(`  ${safety.number}${safety.identityChanged ? '  ← IDENTITY CHANGED' : ''}`);
        print(
          `  ${safety.verified ? 'verified' : 'not verified'}: compare with ${target.name}, then run pulse-chat verify ${target.name} --accept`,
        );
        return;
      }
      case '/transport':
        print(`  ${client.status.state}${client.status.transport ? ` via ${client.status.transport}` : ''}`);
        return;
      default:
        throw new PulseError('BAD_INPUT', `unknown command ${command}: /help lists them`);
    }
  }
}
