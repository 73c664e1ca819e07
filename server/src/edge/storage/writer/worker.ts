import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { openWriteConnection } from '../sqlite-file.ts';
import { channelLogWrites } from './channel-log-writes.ts';
import {
  type FromWriter,
  type ToWriter,
  toWireError,
  WRITE_MODES,
  type WriteOps,
  type WriteReply,
  type WriteRequest,
} from './protocol.ts';
import { storeWrites } from './store-writes.ts';

/** What the main thread hands the writer thread (sqlite-writer.ts). */
export interface WriterData {
  readonly path: string;
  readonly port: MessagePort;
}

/**
 * The SQLite writer thread: the one connection that writes to the file, so
 * every fsync waits here, not on the main thread's event loop (issue 15).
 *
 * Group commit: when a message arrives, every message already waiting is
 * taken too (receiveMessageOnPort), and their requests run in order inside
 * ONE transaction, each in a SAVEPOINT of its own (better-sqlite3 nests
 * `db.transaction`), so a StoreConflict undoes exactly that request while the
 * others commit. The commit is synchronous=FULL when any request of the group
 * is durable (protocol.ts WRITE_MODES), else NORMAL; the replies go back
 * after the commit, in one message. An error that ends the whole transaction
 * (SQLITE_FULL, an I/O error) fails every request of the group.
 */
function serve({ path, port }: WriterData): void {
  let db: Database.Database;
  try {
    db = openWriteConnection(path);
  } catch (error) {
    port.postMessage({ kind: 'failed', error: toWireError(error) } satisfies FromWriter);
    port.close();
    return;
  }
  const ops: WriteOps = { ...storeWrites(db), ...channelLogWrites(db) };
  const post = (message: FromWriter) => port.postMessage(message);

  port.on('message', (first: ToWriter) => {
    const messages = [first];
    for (let next = receiveMessageOnPort(port); next !== undefined; next = receiveMessageOnPort(port)) {
      messages.push(next.message as ToWriter);
    }
    const requests: WriteRequest[] = [];
    let closing = false;
    for (const message of messages) {
      if (message.kind === 'close') closing = true;
      else for (const request of message.requests) requests.push(request);
    }
    if (requests.length > 0) post({ kind: 'replies', replies: run(db, ops, requests) });
    if (closing) {
      db.close();
      post({ kind: 'closed' });
      port.close();
    }
  });
  post({ kind: 'ready' });
}

/** Runs the requests in order: all but `alone` ones grouped into transactions, `alone` ones between them. */
function run(db: Database.Database, ops: WriteOps, requests: readonly WriteRequest[]): WriteReply[] {
  const replies: WriteReply[] = [];
  let group: WriteRequest[] = [];
  const endGroup = () => {
    if (group.length > 0) for (const reply of commitGroup(db, ops, group)) replies.push(reply);
    group = [];
  };
  for (const request of requests) {
    if (WRITE_MODES[request.op] !== 'alone') {
      group.push(request);
      continue;
    }
    endGroup();
    replies.push(attempt(ops, request));
  }
  endGroup();
  return replies;
}

function attempt(ops: WriteOps, { id, op, args }: WriteRequest): WriteReply {
  try {
    const value: unknown = (ops[op] as (...a: readonly unknown[]) => unknown)(...args);
    return { id, ok: true, value };
  } catch (error) {
    return { id, ok: false, error: toWireError(error) };
  }
}

/** The connection's `synchronous` setting now (set between transactions only when it changes). */
let synchronous = 'FULL';

function commitGroup(db: Database.Database, ops: WriteOps, group: readonly WriteRequest[]): WriteReply[] {
  const wanted = group.some((request) => WRITE_MODES[request.op] === 'durable') ? 'FULL' : 'NORMAL';
  if (wanted !== synchronous) {
    db.pragma(`synchronous = ${wanted}`);
    synchronous = wanted;
  }
  const replies: WriteReply[] = [];
  try {
    db.exec('BEGIN IMMEDIATE');
    for (const request of group) {
      const reply = attempt(ops, request);
      // SQLite ended the transaction itself (disk full, I/O error): nothing of the group stays.
      if (!reply.ok && !db.inTransaction) throw Object.assign(new Error(reply.error.message), reply.error);
      replies.push(reply);
    }
    db.exec('COMMIT');
    return replies;
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    const failed = toWireError(error);
    return group.map(({ id }) => ({ id, ok: false, error: failed }));
  }
}

serve(workerData as WriterData);
