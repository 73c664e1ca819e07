import { readdirSync, readFileSync } from 'node:fs';

/**
 * The processes this process started (servers, nats-server, generators), found
 * by their parent pid in /proc: an interrupted run stops them by pid, since a
 * spawned server outlives its parent otherwise.
 */
export function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === process.pid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** On SIGINT or SIGTERM: SIGTERM to every child by pid, then exit. */
export function stopChildrenOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const pid of childPids()) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
      process.exit(130);
    });
  }
}
