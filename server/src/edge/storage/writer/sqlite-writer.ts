import { resolve } from 'node:path';
import { inspect } from 'node:util';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { StoreUnavailable } from '../../../core/store.ts';
import {
  type FromWriter,
  fromWireError,
  type ToWriter,
  type WriteOp,
  type WriteOps,
  type WriteRequest,
} from './protocol.ts';
import type { WriterData } from './worker.ts';
import { writerSource } from './worker-source.ts';

/** Writes sent to the writer thread and not answered yet, at most, by default (`storage.max_writes_in_flight`). */
export const DEFAULT_MAX_WRITES_IN_FLIGHT = 1_024;

export interface SqliteWriterOptions {
  /**
   * Writes handed to the writer thread and not answered yet, at most: a
   * further write waits (its caller's promise stays pending) until one is
   * answered, so a slow disk holds callers back instead of piling up copies
   * of their payloads in messages to the thread.
   */
  readonly maxWritesInFlight?: number | undefined;
  /** Told once if the writer thread stops without being closed (it is not restarted). */
  readonly onStopped?: ((error: StoreUnavailable) => void) | undefined;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** One writer per database file in this process: SQLite lets one connection write at a time. */
const writers = new Map<string, SqliteWriter>();

/**
 * The main thread's handle on the SQLite writer thread (worker.ts): `call`
 * sends a write and resolves with its result once it committed. The writes of
 * one event-loop turn leave in one message; the thread commits what it finds
 * waiting in one transaction (group commit) and answers in one message.
 *
 * One writer per file, shared: SqliteStore and SqliteChannelLog on the same
 * file `acquire` the same writer and the last `release` closes it (after the
 * writes already sent). If the thread dies (an uncaught error, terminated),
 * every write waiting or in flight, and every later one, fails with
 * StoreUnavailable: the core answers UNAVAILABLE, the server stays up, and
 * `/healthz` says so (open-store.ts).
 */
export class SqliteWriter {
  readonly #key: string;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #max: number;
  readonly #onStopped: ((error: StoreUnavailable) => void)[] = [];
  readonly #pending = new Map<number, Pending>();
  /** Callers waiting for a free slot, in call order. */
  readonly #waiting: (() => void)[] = [];
  #outbox: WriteRequest[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #inFlight = 0;
  #refs = 1;
  #failure: StoreUnavailable | undefined;
  #closing = false;
  /** The thread answered `closed`: its exit is the end of a clean close. */
  #finished = false;
  #closed: (() => void) | undefined;
  readonly ready: Promise<void>;

  private constructor(key: string, options: SqliteWriterOptions) {
    this.#key = key;
    this.#max = options.maxWritesInFlight ?? DEFAULT_MAX_WRITES_IN_FLIGHT;
    if (options.onStopped !== undefined) this.#onStopped.push(options.onStopped);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const data: WriterData = { path: key, port: port2 };
    // No execArgv: the bundle needs no loader (worker-source.ts), and a --cpu-prof meant for the main thread stays there.
    this.#worker = new Worker(writerSource(), { workerData: data, transferList: [port2], execArgv: [] });
    // The thread keeps the process alive only while writes are in flight (#busy), as a plain connection would.
    this.#worker.unref();
    let ready: () => void = () => {};
    let failed: (error: unknown) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.ready.catch(() => {});
    // Held until ready: a caller awaiting a read (which waits for the schema) keeps the process alive.
    this.#busy();
    port1.on('message', (message: FromWriter) => {
      if (message.kind === 'ready') {
        ready();
        if (this.#pending.size === 0) this.#idle();
      } else if (message.kind === 'failed') {
        this.#fail(`the SQLite writer could not open ${key}: ${message.error.message}`);
        failed(this.#failure);
      } else if (message.kind === 'replies') {
        for (const reply of message.replies) {
          const pending = this.#pending.get(reply.id);
          if (pending === undefined) continue;
          this.#pending.delete(reply.id);
          this.#freeSlot();
          if (reply.ok) pending.resolve(reply.value);
          else pending.reject(fromWireError(reply.error));
        }
      } else {
        this.#finished = true;
        this.#closed?.();
      }
    });
    this.#worker.on('error', (error: unknown) => {
      // An error thrown in the thread arrives as a copy, not always an Error instance.
      const message = (error as { message?: unknown } | undefined)?.message;
      this.#fail(`the SQLite writer failed: ${typeof message === 'string' ? message : inspect(error)}`);
      failed(this.#failure);
    });
    this.#worker.on('exit', (code) => {
      if (!this.#finished) this.#fail(`the SQLite writer stopped (exit code ${code})`);
      failed(this.#failure);
      this.#closed?.();
    });
  }

  /** The writer of this file: the one already open in this process, or a new one (see SqliteWriterOptions). */
  static acquire(path: string, options: SqliteWriterOptions = {}): SqliteWriter {
    const key = resolve(path);
    const open = writers.get(key);
    if (open !== undefined) {
      open.#refs++;
      if (options.onStopped !== undefined) open.#onStopped.push(options.onStopped);
      return open;
    }
    const writer = new SqliteWriter(key, options);
    writers.set(key, writer);
    return writer;
  }

  /** Writes sent and not answered yet (never more than maxWritesInFlight). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Callers waiting for a slot (maxWritesInFlight reached). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** False once the thread stopped unexpectedly: every write fails with StoreUnavailable. */
  get available(): boolean {
    return this.#failure === undefined;
  }

  /** Sends one write to the thread; resolves with its result after its commit (rejects with its error). */
  async call<K extends WriteOp>(op: K, ...args: Parameters<WriteOps[K]>): Promise<ReturnType<WriteOps[K]>> {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#inFlight < this.#max && this.#waiting.length === 0) this.#inFlight++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    // A slot is ours now (handed over by #freeSlot, or taken above).
    if (this.#failure !== undefined) throw this.#failure;
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#outbox.push({ id, op, args });
      if (this.#pending.size === 1) this.#busy();
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Sends the turn's writes in one message. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#outbox.length === 0 || this.#failure !== undefined) return;
    const requests = this.#outbox;
    this.#outbox = [];
    this.#post({ kind: 'write', requests });
  }

  #post(message: ToWriter): void {
    this.#port.postMessage(message);
  }

  /** A write was answered: its slot goes to the first waiting caller, or is free. */
  #freeSlot(): void {
    const next = this.#waiting.shift();
    if (next !== undefined) next();
    else this.#inFlight--;
    if (this.#pending.size === 0 && this.#waiting.length === 0) this.#idle();
  }

  #busy(): void {
    this.#port.ref();
  }

  #idle(): void {
    if (!this.#closing) this.#port.unref();
  }

  #fail(reason: string): void {
    if (this.#failure !== undefined) return;
    this.#failure = new StoreUnavailable(reason);
    if (writers.get(this.#key) === this) writers.delete(this.#key);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    this.#outbox = [];
    for (const { reject } of pending) reject(this.#failure);
    for (const wake of this.#waiting.splice(0)) wake();
    this.#inFlight = 0;
    this.#port.close();
    if (!this.#closing) for (const listener of this.#onStopped) listener(this.#failure);
  }

  /**
   * Gives up one holder's share; the last one closes the writer: the writes
   * sent before are carried out and answered first, then the connection
   * closes (the last connection to a WAL file checkpoints it) and the thread ends.
   */
  async release(): Promise<void> {
    if (--this.#refs > 0) return;
    if (writers.get(this.#key) === this) writers.delete(this.#key);
    this.#closing = true;
    if (this.#failure !== undefined) {
      await this.#worker.terminate();
      return;
    }
    // Writes still waiting for a slot are sent as slots free up; then the close follows them.
    while (this.#waiting.length > 0 || this.#outbox.length > 0) {
      this.#flush();
      if (this.#waiting.length > 0) await new Promise((resolve) => setImmediate(resolve));
      if (this.#failure !== undefined) return;
    }
    this.#busy();
    await new Promise<void>((resolve) => {
      this.#closed = resolve;
      this.#post({ kind: 'close' });
    });
    this.#port.close();
  }

  /**
   * Stops the thread at once, as a crash would: what is in flight fails with
   * StoreUnavailable (it may or may not have committed), and so does every
   * later write. For tests of that path, and a last resort.
   */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }
}
