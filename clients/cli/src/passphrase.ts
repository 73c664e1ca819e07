import { PulseError } from '@pulse/sdk';

/**
 * The profile passphrase: PULSE_PASSPHRASE when set (scripts, tests), else a
 * prompt with echo off when stdin is a terminal.
 */
export async function readPassphrase(envName = 'PULSE_PASSPHRASE', prompt = 'Profile passphrase: '): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY) {
    throw new PulseError('WRONG_PASSPHRASE', `no passphrase: set ${envName} (stdin is not a terminal)`);
  }
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(text);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new PulseError('WRONG_PASSPHRASE', 'cancelled'));
          return;
        }
        if (char === '\u007f') text = text.slice(0, -1);
        else text += char;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}
