/**
 * Flushes that run once at the end of the current task: after the I/O callback
 * (or timer) that is running and every microtask it queued, before the event
 * loop moves on. What a session sends while it handles the frames of one read
 * (several publications that arrived together, a burst of deliveries) thus
 * leaves a connection in one write (issue 15 "Speed work": fan-out coalesced
 * per connection, as Centrifugo batches its frames), and nothing waits for
 * other connections' callbacks: the added latency is the rest of the current
 * task, not a loop iteration. One scheduling for all connections, not one
 * each: a publication to 1,000 subscribers schedules one.
 */
const due = new Set<() => void>();
let scheduled = false;

/** Runs `flush` at the end of the current task (once, however often it is asked for). */
export function flushAtEndOfTask(flush: () => void): void {
  due.add(flush);
  if (scheduled) return;
  scheduled = true;
  // A microtask runs within the current drain; the tick it queues runs once the drain is over.
  queueMicrotask(() => process.nextTick(runDue));
}

function runDue(): void {
  scheduled = false;
  const flushes = [...due];
  due.clear();
  for (const flush of flushes) {
    try {
      flush();
    } catch {
      // One connection failing to write (it closed meanwhile) must not keep the others' bytes.
    }
  }
}
