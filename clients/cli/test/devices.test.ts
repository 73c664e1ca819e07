import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ServerProcess, spawnServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ServerDatabase } from '../../sdk/test/server-database.ts';
import { jsonLines, runCli, spawnCli } from './run-cli.ts';

// The real server process and real CLI processes; the 2 cores are shared, so generous timeouts.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 120_000 });

let server: ServerProcess;
let database: ServerDatabase;
const dir = mkdtempSync(join(tmpdir(), 'pulse-cli-devices-'));

beforeAll(async () => {
  server = await spawnServer();
  database = new ServerDatabase(server.dataDir);
});
afterAll(async () => {
  database?.close();
  await server?.stop();
});

function cli(profile: string, ...args: string[]) {
  return runCli(['--server', server.baseUrl, '--profile', join(dir, profile), '--transport', 'websocket', ...args]);
}

/** `pulse-chat link ACCOUNT` on a fresh profile: resolves with the code it prints, and with how it ended. */
async function startLink(profile: string, account: string, ...args: string[]) {
  const child = await spawnCli([
    '--server',
    server.baseUrl,
    '--profile',
    join(dir, profile),
    '--transport',
    'websocket',
    'link',
    account,
    ...args,
  ]);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const code = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /link code: ([0-9A-Z]{5}-[0-9A-Z]{5})/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.on('exit', () => reject(new Error(`link exited without a code: ${stdout} ${stderr}`)));
  });
  const ended = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    child.on('exit', (exitCode) => resolve({ code: exitCode ?? 1, stdout, stderr }));
  });
  return { code, ended };
}

// One scenario at a time: each spawns several CLI processes, and cli.test.ts runs beside this file.
describe('pulse-chat: devices, linking and a compromised server', () => {
  it('links a device with the code it shows; the contact is told; messages reach both; removal', async () => {
    expect((await cli('l-alice', 'register', 'l-alice')).code).toBe(0);
    expect((await cli('l-laptop', 'register', 'l-bob', '--device-name', 'laptop')).code).toBe(0);
    expect((await cli('l-alice', 'send', 'l-bob', 'hi')).code).toBe(0);

    const link = await startLink('l-phone', 'l-bob', '--device-name', 'phone');
    const code = await link.code;
    const pending = await cli('l-laptop', 'devices');
    expect(pending.stdout).toContain('pending: "phone" asks to join');
    const approved = await cli('l-laptop', 'approve', code);
    expect(approved.stdout).toContain('approved device 2 "phone"');
    expect(approved.code).toBe(0);
    const linked = await link.ended;
    expect(linked.stdout).toContain('linked as device 2 of l-bob');
    expect(linked.code).toBe(0);

    const sent = await cli('l-alice', 'send', 'l-bob', 'to both');
    expect(sent.code).toBe(0);
    expect(sent.stderr).toMatch(/l-bob added a device "phone" \(device 2, \d{4}-\d\d-\d\dT/);
    const [laptop, phone] = await Promise.all([cli('l-laptop', 'recv', '--json'), cli('l-phone', 'recv', '--json')]);
    expect(jsonLines(laptop.stdout).map((m) => m.text)).toEqual(['hi', 'to both']);
    expect(jsonLines(phone.stdout).map((m) => m.text)).toEqual(['to both']);
    // The phone holds the account identity: its safety number with alice is the laptop's.
    const [fromLaptop, fromPhone] = await Promise.all([
      cli('l-laptop', 'verify', 'l-alice'),
      cli('l-phone', 'verify', 'l-alice'),
    ]);
    expect(fromPhone.stdout.split('\n')[0]).toBe(fromLaptop.stdout.split('\n')[0]);

    expect((await cli('l-laptop', 'devices', '--remove', '2')).code).toBe(0);
    const afterRemoval = await cli('l-alice', 'send', 'l-bob', 'laptop only');
    expect(afterRemoval.stderr).toContain('l-bob removed a device "phone" (device 2)');
    expect(jsonLines((await cli('l-laptop', 'recv', '--json')).stdout).map((m) => m.text)).toEqual(['laptop only']);
    expect(database.queued('l-bob', 2)).toBe(0);
  });

  it('a link nobody approves links nothing (a token or the server alone cannot approve it)', async () => {
    expect((await cli('t-bob', 'register', 't-bob')).code).toBe(0);
    const link = await startLink('t-intruder', 't-bob', '--wait', '2');
    await link.code;
    const ended = await link.ended;
    expect(ended.code).toBe(9);
    expect(ended.stderr).toContain('no device of the account approved the link');
    const devices = await cli('t-bob', 'devices');
    expect(devices.stdout.split('\n').filter((line) => /^\d+\t/.test(line))).toHaveLength(1);
  });

  it('a device the server put into an account gets nothing, and the sender is told (exit 10)', async () => {
    expect((await cli('g-alice', 'register', 'g-alice')).code).toBe(0);
    expect((await cli('g-bob', 'register', 'g-bob')).code).toBe(0);
    expect((await cli('g-mallory', 'register', 'g-mallory')).code).toBe(0);
    expect((await cli('g-alice', 'send', 'g-bob', 'before')).code).toBe(0);
    database.moveDevice('g-mallory', 'g-bob', 5);
    const sent = await cli('g-alice', 'send', 'g-bob', 'secret');
    expect(sent.code).toBe(10);
    expect(sent.stderr).toContain('the server lists a device 5 of g-bob that g-bob did not sign');
    expect(database.queued('g-bob', 5)).toBe(0);
  });

  it('a device list rolled back to an older version is refused (exit 10)', async () => {
    expect((await cli('r-alice', 'register', 'r-alice')).code).toBe(0);
    expect((await cli('r-laptop', 'register', 'r-bob')).code).toBe(0);
    const link = await startLink('r-phone', 'r-bob', '--device-name', 'phone');
    expect((await cli('r-laptop', 'approve', await link.code)).code).toBe(0);
    expect((await link.ended).code).toBe(0);
    expect((await cli('r-alice', 'send', 'r-bob', 'to both')).code).toBe(0);
    const withPhone = database.snapshot('r-bob');
    expect((await cli('r-laptop', 'devices', '--remove', '2')).code).toBe(0);
    expect((await cli('r-alice', 'send', 'r-bob', 'laptop only')).code).toBe(0);
    database.restore('r-bob', withPhone);
    const sent = await cli('r-alice', 'send', 'r-bob', 'after the rollback');
    expect(sent.code).toBe(10);
    expect(sent.stderr).toContain('older than version 3 already seen');
    expect(database.queued('r-bob', 2)).toBe(0);
  });

  it('a contact that registers again with a new identity: sending stops (exit 7) until accepted', async () => {
    expect((await cli('n-alice', 'register', 'n-alice')).code).toBe(0);
    expect((await cli('n-bob', 'register', 'n-bob')).code).toBe(0);
    expect((await cli('n-alice', 'send', 'n-bob', 'hi')).code).toBe(0);
    const before = (await cli('n-alice', 'verify', 'n-bob')).stdout.split('\n')[0];
    // Bob starts over: the server forgets his account; he registers the name again from a new profile.
    database.deleteAccount('n-bob');
    expect((await cli('n-bob-new', 'register', 'n-bob')).code).toBe(0);
    expect((await cli('n-bob-new', 'send', 'n-alice', 'new phone, same bob')).code).toBe(0);

    const received = await cli('n-alice', 'recv', '--json');
    expect(received.stderr).toContain('the identity key of n-bob changed. Run: pulse-chat verify n-bob');
    expect(jsonLines(received.stdout)).toEqual([]);
    const blocked = await cli('n-alice', 'send', 'n-bob', 'are you really bob?');
    expect(blocked.code).toBe(7);
    const changed = await cli('n-alice', 'verify', 'n-bob');
    expect(changed.stdout).toContain('IDENTITY KEY CHANGED');
    expect(changed.stdout.split('\n')[0]).not.toBe(before);
    expect((await cli('n-alice', 'verify', 'n-bob', '--accept')).code).toBe(0);
    expect((await cli('n-alice', 'send', 'n-bob', 'welcome back')).code).toBe(0);
    expect(jsonLines((await cli('n-bob-new', 'recv', '--json')).stdout).map((m) => m.text)).toEqual(['welcome back']);
  });
});
