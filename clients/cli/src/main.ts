#!/usr/bin/env -S node --import tsx
/**
 * pulse-chat: an end-to-end encrypted chat client for Pulse servers, for
 * scripts (register, send, recv --json, group ...) and people (chat).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { PulseClient, StoredMessage, TransportPreference } from '@pulse/sdk';
import { ConversationId, PulseError } from '@pulse/sdk';
import { openNodeClient } from '@pulse/sdk/node';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { runChat } from './chat.ts';
import { describeError, EXIT, exitCodeOf } from './exit-codes.ts';
import { deviceAddedLine, deviceRemovedLine, messageJson, messageLine } from './format.ts';
import { readPassphrase } from './passphrase.ts';

interface GlobalOptions {
  server: string | undefined;
  profile: string;
  transport: TransportPreference;
  /** false with --no-sealed-sender: every envelope names its sender to the server. */
  sealedSender: boolean;
}

const program = new Command('pulse-chat')
  .description('End-to-end encrypted chat over a Pulse server (WebTransport, falling back to WebSocket).')
  .version('0.1.0')
  .option(
    '-s, --server <url>',
    'the Pulse server (default: the one the profile registered with, else http://127.0.0.1:8080)',
  )
  .option('-p, --profile <dir>', 'profile directory (keys, sessions, history)', defaultProfile())
  .addOption(
    new Option('-t, --transport <kind>', 'transport to use')
      .choices(['auto', 'webtransport', 'websocket'])
      .default('auto'),
  )
  .option(
    '--no-sealed-sender',
    'send plain even to contacts whose delivery token the profile holds (by default those go sealed: the server stores no sender)',
  )
  .addHelpText(
    'after',
    '\nThe profile is encrypted with a passphrase: PULSE_PASSPHRASE supplies it, otherwise it is asked for.\n' +
      'Exit codes: 0 ok, 1 failure, 2 usage, 3 server unreachable, 4 wrong passphrase, 5 unknown contact or group,\n' +
      '6 not registered, 7 identity key changed, 8 refused by the server, 9 timeout, 10 a device or device list\n' +
      'the account did not sign (refused).',
  )
  .showHelpAfterError()
  .exitOverride();

program
  .command('register')
  .description('create an account NAME with this profile as its first device')
  .argument('<name>', 'account name: 3-32 characters, a-z 0-9 . _ -')
  .option('--device-name <name>', 'name of this device', 'cli')
  .action(async (name: string, options: { deviceName: string }) => {
    await withClient({ deviceName: options.deviceName, connect: false }, async (client) => {
      await client.register(name);
      console.log(`registered ${name} (device ${client.deviceId}) on ${client.server}`);
    });
  });

program
  .command('link')
  .description('make this (new) profile another device of account NAME, once a device of NAME approves it')
  .argument('[name]', 'the account to join (not needed with --from)')
  .option('--device-name <name>', 'name of this device', 'cli')
  .option('-w, --wait <seconds>', 'how long to wait for the approval', seconds, 600)
  .option('--from <dir>', 'approve from the profile in DIR on this machine instead of another device')
  .addHelpText(
    'after',
    '\nPrints a code; on a device of NAME, run `pulse-chat approve CODE`. That device signs this one into the\n' +
      "account's device list and sends it the account's identity, encrypted to this device alone.\n" +
      'With --from, the profile in DIR (opened with PULSE_FROM_PASSPHRASE or PULSE_PASSPHRASE) approves at once.',
  )
  .action(async (name: string | undefined, options: { from?: string; deviceName: string; wait: number }) => {
    if (options.from !== undefined) {
      const fromPassphrase = process.env.PULSE_FROM_PASSPHRASE || (await readPassphrase());
      await withClient({ deviceName: options.deviceName, connect: false }, async (client) => {
        const existing = await openNodeClient({
          ...clientOptions(),
          profile: options.from!,
          passphrase: fromPassphrase,
        });
        try {
          await existing.connect();
          const deviceId = await existing.linkDevice(client, options.deviceName);
          console.log(`linked as device ${deviceId} of ${client.account}`);
          await existing.idle();
        } finally {
          await existing.close();
        }
      });
      return;
    }
    if (name === undefined) throw new PulseError('BAD_INPUT', 'name the account to join (or use --from DIR)');
    const limits = { linkTimeoutMs: Math.max(1, Math.round(options.wait * 1000)) };
    await withClient({ deviceName: options.deviceName, connect: false, limits }, async (client) => {
      const deviceId = await client.requestLink(name, (code) => {
        console.log(`link code: ${code}`);
        console.log(`on a device of ${name}, run: pulse-chat approve ${code}`);
      });
      console.log(`linked as device ${deviceId} of ${name}`);
    });
  });

program
  .command('approve')
  .description('approve the new device that shows CODE (pulse-chat link): it joins this account')
  .argument('<code>', 'the link code the new device shows')
  .action(async (code: string) => {
    await withClient({}, async (client) => {
      const device = await client.approveLink(code);
      console.log(`approved device ${device.deviceId} "${device.name}"`);
    });
  });

program
  .command('send')
  .description('send TEXT to account NAME (every device of it)')
  .argument('<name>', 'recipient account')
  .argument('<text...>', 'the message')
  .action(async (name: string, words: string[]) => {
    await withClient({}, async (client) => {
      const sent = await client.sendText(name, words.join(' '));
      console.log(`sent to ${name} (${sent.id})`);
    });
  });

program
  .command('recv')
  .description('print messages that arrived, then (with --wait) keep listening')
  .option('-w, --wait <seconds>', 'keep listening this many seconds', seconds, 0)
  .option('--json', 'one JSON object per line: id, sender, device, text, time, group')
  .action(async (options: { wait: number; json?: boolean }) => {
    await withClient({}, async (client) => {
      await client.sync();
      let printing = Promise.resolve();
      const printUnread = () => {
        printing = printing.then(async () => {
          for (const message of await client.takeUnread()) printMessage(client, message, options.json === true);
        });
        return printing;
      };
      await printUnread();
      if (options.wait > 0) {
        const off = client.on('message', () => void printUnread());
        await new Promise((resolve) => setTimeout(resolve, options.wait * 1000));
        await client.idle();
        off();
        await printUnread();
      }
    });
  });

const group = program.command('group').description('group chats (Sender Keys, end to end)');
group
  .command('create')
  .description('create group NAME with the given members')
  .argument('<name>', 'group name')
  .argument('[members...]', 'member accounts')
  .action(async (name: string, members: string[]) => {
    await withClient({}, async (client) => {
      const created = await client.createGroup(name, members);
      console.log(`created group ${name} (${created.id}) with ${created.members.join(', ')}`);
    });
  });
group
  .command('add')
  .description('add MEMBER to GROUP')
  .argument('<group>', 'group name or id')
  .argument('<member>', 'account to add')
  .action(async (groupName: string, member: string) => {
    await withClient({}, async (client) => {
      const updated = await client.addMember(groupName, member);
      console.log(`${member} added; members: ${updated.members.join(', ')}`);
    });
  });
group
  .command('remove')
  .description('remove MEMBER from GROUP (everyone rotates their sender key)')
  .argument('<group>', 'group name or id')
  .argument('<member>', 'account to remove')
  .action(async (groupName: string, member: string) => {
    await withClient({}, async (client) => {
      const updated = await client.removeMember(groupName, member);
      console.log(`${member} removed; members: ${updated.members.join(', ')}`);
    });
  });
group
  .command('send')
  .description('send TEXT to GROUP')
  .argument('<group>', 'group name or id')
  .argument('<text...>', 'the message')
  .action(async (groupName: string, words: string[]) => {
    await withClient({}, async (client) => {
      const sent = await client.sendGroupText(groupName, words.join(' '));
      console.log(`sent to ${groupName} (${sent.id})`);
    });
  });
group
  .command('list')
  .description('list the groups of this profile')
  .action(async () => {
    await withClient({ connect: false }, async (client) => {
      for (const g of client.groups()) {
        console.log(`${g.name}\t${g.id}\t${g.left ? '(left) ' : ''}${g.members.join(', ')}`);
      }
    });
  });

program
  .command('verify')
  .description("show the safety numbers for NAME; compare them with NAME's, then --accept")
  .argument('<name>', 'contact account')
  .option('--accept', 'mark NAME verified, accepting a changed account identity')
  .action(async (name: string, options: { accept?: boolean }) => {
    await withClient({}, async (client) => {
      const safety = await client.safetyNumber(name);
      const flag = safety.identityChanged ? '  ← IDENTITY KEY CHANGED' : '';
      console.log(`safety number with ${name}: ${safety.number}${flag}`);
      if (options.accept === true) {
        await client.markVerified(name);
        console.log(`${name} marked as verified`);
      } else {
        console.log(safety.verified ? `${name} is verified` : `${name} is not verified yet`);
      }
    });
  });

program
  .command('devices')
  .description("list this account's devices (its signed device list) and devices asking to join")
  .option('--remove <id>', 'remove device ID: sign a device list without it', deviceIdArg)
  .action(async (options: { remove?: number }) => {
    await withClient({}, async (client) => {
      if (options.remove !== undefined) {
        await client.removeDevice(options.remove);
        console.log(`device ${options.remove} removed`);
      }
      for (const d of await client.devices()) {
        const seen = d.lastSeenAt === 0 ? 'never seen' : `last seen ${new Date(d.lastSeenAt).toISOString()}`;
        const added = new Date(d.createdAt).toISOString();
        console.log(`${d.deviceId}\t${d.name}\tadded ${added}\t${seen}${d.current ? '\t(this device)' : ''}`);
      }
      for (const link of await client.pendingLinks()) {
        console.log(`pending: "${link.deviceName}" asks to join (approve with: pulse-chat approve CODE)`);
      }
    });
  });

program
  .command('history')
  .description('print the stored conversation with NAME (or a group)')
  .argument('<name>', 'contact account or group name')
  .action(async (name: string) => {
    await withClient({ connect: false }, async (client) => {
      const groupRecord = client.findGroup(name);
      const conversation = groupRecord === undefined ? ConversationId.user(name) : ConversationId.group(groupRecord.id);
      for (const m of client.messages(conversation)) console.log(messageLine(m, groupRecord?.name));
    });
  });

program
  .command('chat')
  .description('interactive chat (type /help inside)')
  .argument('[name]', 'contact account or group to talk to')
  .action(async (name: string | undefined) => {
    await withClient({ presence: true }, async (client) => {
      await runChat(client, name);
    });
  });

// ---- plumbing ---------------------------------------------------------------------------

function defaultProfile(): string {
  return process.env.PULSE_PROFILE ?? join(homedir(), '.pulse-chat');
}

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>();
}

function clientOptions() {
  const { transport, sealedSender } = globals();
  const server = globals().server ?? process.env.PULSE_SERVER;
  return { ...(server === undefined ? {} : { server }), transport, sealedSender, clientName: 'pulse-chat/0.1' };
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 86_400) throw new InvalidArgumentError('seconds between 0 and 86400');
  return n;
}

function deviceIdArg(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a device id (a positive integer)');
  return n;
}

function printMessage(client: PulseClient, message: StoredMessage, json: boolean): void {
  const groupName = message.group === undefined ? undefined : client.findGroup(message.group)?.name;
  console.log(json ? messageJson(message, groupName) : messageLine(message, groupName));
}

async function withClient(
  options: {
    connect?: boolean;
    deviceName?: string;
    presence?: boolean;
    limits?: { linkTimeoutMs: number };
  },
  run: (client: PulseClient) => Promise<void>,
): Promise<void> {
  const passphrase = await readPassphrase();
  const client = await openNodeClient({
    ...clientOptions(),
    profile: globals().profile,
    passphrase,
    ...(options.deviceName === undefined ? {} : { deviceName: options.deviceName }),
    presence: options.presence === true,
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  try {
    client.on('identity_changed', ({ account }) => {
      console.error(`warning: the identity key of ${account} changed. Run: pulse-chat verify ${account}`);
    });
    if (options.presence !== true) {
      client.on('device_added', (event) => console.error(deviceAddedLine(event)));
      client.on('device_removed', (event) => console.error(deviceRemovedLine(event)));
    }
    client.on('device_list_refused', ({ reason }) => console.error(`warning: ${reason}`));
    client.on('untrusted_device', ({ account, deviceId }) =>
      console.error(
        `warning: the server lists a device ${deviceId} of ${account} that ${account} did not sign: it gets nothing`,
      ),
    );
    client.on('problem', ({ from, reason }) => {
      if (options.presence !== true) console.error(`warning: a message from ${from} could not be read: ${reason}`);
    });
    if (options.connect !== false) await client.connect();
    await run(client);
    if (client.status.state === 'connected') await client.idle();
  } finally {
    await client.close();
  }
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
    process.exit(EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage mistakes were already explained by commander.
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
    }
    console.error(`pulse-chat: ${describeError(error)}`);
    process.exit(PulseError.is(error) ? exitCodeOf(error) : EXIT.failure);
  }
}

await main();
