/**
 * Time, passed in: the core never reads a clock of its own, so tests can run it
 * on a fake one.
 */
export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch: server times, expiries, token lifetimes, rate buckets. */
  now(): number;
  /** A monotonic reading in (fractional) milliseconds, for durations only: request latency. */
  monotonic(): number;
}
