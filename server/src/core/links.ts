import type { FrameOf } from '@pulse/proto';
import { PulseError } from './errors.ts';

/** A device waiting on its own connection for a device of the account to approve it (PROTOCOL.md "Linking"). */
export interface PendingLink {
  readonly account: string;
  /** What the account's devices see (`link_requested`, `links`). */
  readonly request: Omit<FrameOf<'link_requested'>, 'type'>;
  /** Sends `link_approved` to the waiting connection. */
  readonly approve: (frame: FrameOf<'link_approved'>) => void;
  /** False once the waiting connection closed: the link is gone (nobody would receive the approval). */
  readonly waiting: () => boolean;
}

export interface PendingLinksLimits {
  /** Links pending per account at once (anyone may ask to join any account). */
  readonly maxPendingLinks: number;
  /** Links pending on the whole server at once. */
  readonly maxPendingLinksTotal: number;
}

/**
 * The pending links of this server, in memory: they live as long as the new
 * device's connection waits, and at most until `expiresAt`. Both counts are
 * bounded, since asking costs the asker nothing but an authentication attempt;
 * a link whose connection closed stops counting at once.
 */
export class PendingLinks {
  readonly #limits: PendingLinksLimits;
  /** linkId → link, in insertion order (oldest first). */
  readonly #links = new Map<string, PendingLink>();

  constructor(limits: PendingLinksLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#links.size;
  }

  /** Adds a link; RATE_LIMITED when its account or the server holds the maximum. */
  add(link: PendingLink, now: number): void {
    this.#purge(now);
    if (this.#links.size >= this.#limits.maxPendingLinksTotal) {
      throw new PulseError('RATE_LIMITED', 'too many devices are waiting to be linked: try again later');
    }
    if (this.list(link.account, now).length >= this.#limits.maxPendingLinks) {
      throw new PulseError('RATE_LIMITED', `too many devices are waiting to join ${link.account}: try again later`);
    }
    this.#links.set(link.request.linkId, link);
  }

  /** The account's live links. */
  list(account: string, now: number): PendingLink[] {
    this.#purge(now);
    return [...this.#links.values()].filter((l) => l.account === account);
  }

  /** The live link `linkId` of `account`. */
  get(account: string, linkId: string, now: number): PendingLink | undefined {
    this.#purge(now);
    const link = this.#links.get(linkId);
    return link?.account === account ? link : undefined;
  }

  /** The highest device id proposed to a pending link of `account` (so two links never get the same one). */
  highestProposed(account: string, now: number): number {
    return Math.max(0, ...this.list(account, now).map((l) => l.request.deviceId));
  }

  delete(linkId: string): void {
    this.#links.delete(linkId);
  }

  /** Forgets links that expired or whose connection closed. */
  #purge(now: number): void {
    for (const [linkId, link] of this.#links) {
      if (link.request.expiresAt <= now || !link.waiting()) this.#links.delete(linkId);
    }
  }
}
