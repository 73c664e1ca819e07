/**
 * Loaded into the Pulse server by `bench/profile.ts` (NODE_OPTIONS="--import=<this file>",
 * since Node 20 refuses --cpu-prof in NODE_OPTIONS): V8's CPU profiler, the one
 * --cpu-prof runs. SIGUSR2 starts it; the next SIGUSR2 stops it and writes a
 * .cpuprofile into BENCH_CPU_PROFILE_DIR, so the profile holds the measured phase only.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const directory = process.env.BENCH_CPU_PROFILE_DIR;
if (directory !== undefined) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      session.post('Profiler.start');
      running = true;
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      if (error !== null) return;
      const file = join(directory, `server-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(result.profile));
      writeFileSync(`${file}.done`, '');
    });
  });
}
