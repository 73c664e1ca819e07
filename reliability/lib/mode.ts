/**
 * How a suite runs: `--quick` (a reduced form for CI, about 2 minutes for all
 * suites) or the full run whose figures docs/reliability.md records.
 */
export interface RunMode {
  readonly quick: boolean;
  /** `full` or `quick`, as printed with every figure. */
  readonly name: 'full' | 'quick';
}

export function runMode(argv: readonly string[] = process.argv.slice(2)): RunMode {
  const quick = argv.includes('--quick');
  return { quick, name: quick ? 'quick' : 'full' };
}

/** `quick` in quick mode, else `full`: one place where each suite states both sizes. */
export function sized<T>(mode: RunMode, full: T, quick: T): T {
  return mode.quick ? quick : full;
}
