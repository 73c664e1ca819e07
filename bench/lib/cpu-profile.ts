/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) into the two lists a
 * reader of a profile wants first: where the samples land (self time per
 * function) and which functions they land under (inclusive time). Time is the
 * main thread's wall time: a synchronous call that waits (better-sqlite3's
 * fsync) counts for the JavaScript frame that made it.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly hitCount?: number;
  readonly children?: number[];
}

interface CpuProfile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

export interface FunctionTime {
  /** `name (path:line)`, the path relative to the repository. */
  readonly where: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly self: FunctionTime[];
  readonly inclusive: FunctionTime[];
}

function label(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const path = url.replace(/^file:\/\//, '').replace(root, '');
  return path === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} (${path}:${lineNumber + 1})`;
}

/** Self and inclusive milliseconds per function, the top `limit` of each. */
export function summarizeProfile(file: string, root: string, limit = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  // Each sample's duration is the delta to the next one.
  const selfMs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const id = profile.samples[i]!;
    selfMs.set(id, (selfMs.get(id) ?? 0) + ms);
  }
  const totalMs = (profile.endTime - profile.startTime) / 1000;
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)!;
    self.set(label(node, root), (self.get(label(node, root)) ?? 0) + ms);
    // Each function on the sample's stack once (recursion counted once).
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = label(byId.get(at)!, root);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  }
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([where, ms]) => ({ where, ms, share: ms / totalMs }));
  return { totalMs, self: top(self), inclusive: top(inclusive) };
}
