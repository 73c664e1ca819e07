import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, type ServerProcess, spawnServer } from '@pulse/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { jsonLines, runCli, spawnCli } from './run-cli.ts';

// The real server process, real CLI processes: generous when the machine is busy (the 2 cores are shared).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

let server: ServerProcess;
const dir = mkdtempSync(join(tmpdir(), 'pulse-cli-'));

beforeAll(async () => {
  server = await spawnServer();
});
afterAll(async () => {
  await server?.stop();
});

function cli(profile: string, ...args: string[]) {
  return runCli(['--server', server.baseUrl, '--profile', join(dir, profile), ...args]);
}

// These scenarios use their own accounts and profiles: they run at once, each step in order.
describe.concurrent('pulse-chat against a real server', () => {
  it.each(['webtransport', 'websocket'] as const)(
    'two CLI users over %s register and exchange messages both ways',
    async (transport) => {
      const tag = transport === 'webtransport' ? 'wt' : 'ws';
      const alice = `alice-${tag}`;
      const bob = `bob-${tag}`;
      expect((await cli(alice, '--transport', transport, 'register', alice)).code).toBe(0);
      expect((await cli(bob, '--transport', transport, 'register', bob)).code).toBe(0);

      const sent = await cli(alice, '--transport', transport, 'send', bob, `hello ${bob}, from ${alice}`);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      const received = await cli(bob, '--transport', transport, 'recv', '--json');
      expect(received.code).toBe(0);
      expect(jsonLines(received.stdout)).toMatchObject([
        { sender: alice, text: `hello ${bob}, from ${alice}`, group: null },
      ]);

      expect((await cli(bob, '--transport', transport, 'send', alice, 'and hello back')).code).toBe(0);
      const back = await cli(alice, '--transport', transport, 'recv', '--json');
      expect(jsonLines(back.stdout)).toMatchObject([{ sender: bob, text: 'and hello back' }]);
      // Bob's device confirmed the first message: alice's history shows it delivered.
      const history = await cli(alice, 'history', bob);
      expect(history.stdout).toContain(`${alice}: hello ${bob}, from ${alice} ✓✓`);

      // Everything was shown once: a second recv prints nothing.
      expect(jsonLines((await cli(bob, '--transport', transport, 'recv', '--json')).stdout)).toEqual([]);

      // recv --wait keeps listening: what arrives meanwhile is printed too.
      const waiting = cli(bob, '--transport', transport, 'recv', '--wait', '4', '--json');
      expect((await cli(alice, '--transport', transport, 'send', bob, 'while you wait')).code).toBe(0);
      const waited = await waiting;
      expect(waited.code).toBe(0);
      expect(jsonLines(waited.stdout).map((m) => m.text)).toEqual(['while you wait']);
    },
  );

  it('the interactive chat shows incoming messages as they arrive and sends what is typed', async () => {
    expect((await cli('chat-ann', 'register', 'chat-ann')).code).toBe(0);
    expect((await cli('chat-ben', 'register', 'chat-ben')).code).toBe(0);
    expect((await cli('chat-ben', 'send', 'chat-ann', 'are you there?')).code).toBe(0);

    const child = await spawnCli(['--server', server.baseUrl, '--profile', join(dir, 'chat-ann'), 'chat', 'chat-ben']);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const waitFor = async (text: string) => {
      for (let i = 0; i < 300 && !output.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      expect(output).toContain(text);
    };
    try {
      await waitFor('conversation with chat-ben');
      await waitFor('chat-ben: are you there?');
      child.stdin.write('yes, typing in the chat view\n');
      await waitFor('chat-ann: yes, typing in the chat view');
      const received = await cli('chat-ben', 'recv', '--json');
      expect(jsonLines(received.stdout).map((m) => m.text)).toEqual(['yes, typing in the chat view']);
      expect((await cli('chat-ben', 'send', 'chat-ann', 'live reply')).code).toBe(0);
      await waitFor('chat-ben: live reply');
      child.stdin.write('/help\n');
      await waitFor('/verify');
      child.stdin.write('/quit\n');
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }
  });

  // `npx pulse-chat` from the repository runs node_modules/.bin/pulse-chat, which npm
  // links to the wrapper because the root package depends on @pulse/cli.
  it.each([
    ['its bin wrapper', 'clients/cli/bin/pulse-chat.js'],
    ['the npm-linked bin (npx pulse-chat)', 'node_modules/.bin/pulse-chat'],
  ])('the pulse-chat command runs through %s from any directory', async (_name, path) => {
    const bin = join(REPO_ROOT, path);
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, '--version'], {
        cwd: tmpdir(),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.once('exit', (code) => resolve({ code, stdout }));
    });
    expect(result).toEqual({ code: 0, stdout: '0.1.0\n' });
  });
});

describe('errors and exit codes', () => {
  it('an unknown contact exits 5 with a message naming it', async () => {
    await cli('carol', 'register', 'carol-err');
    const result = await cli('carol', 'send', 'nobody-at-all', 'hi');
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('nobody-at-all');
  });

  it('a wrong passphrase exits 4', async () => {
    const result = await runCli(['--server', server.baseUrl, '--profile', join(dir, 'carol'), 'recv'], {
      PULSE_PASSPHRASE: 'wrong',
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('passphrase');
  });

  it('an unreachable server exits 3', async () => {
    const result = await runCli(['--server', 'http://127.0.0.1:9', '--profile', join(dir, 'carol'), 'recv']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('cannot reach');
  });

  it('a profile without an account exits 6; a taken name exits 8', async () => {
    expect((await cli('empty', 'send', 'carol-err', 'hi')).code).toBe(6);
    expect((await cli('other', 'register', 'carol-err')).code).toBe(8);
  });

  it('--help exists for every command', async () => {
    const commands = [
      [],
      ['register'],
      ['link'],
      ['approve'],
      ['send'],
      ['recv'],
      ['group', 'create'],
      ['verify'],
      ['devices'],
      ['chat'],
    ];
    const results = await Promise.all(commands.map((command) => runCli([...command, '--help'])));
    for (const [i, result] of results.entries()) {
      expect(result.code, commands[i]!.join(' ')).toBe(0);
      expect(result.stdout).toContain(`Usage: pulse-chat ${commands[i]!.join(' ')}`.trim());
    }
  });
});
