import type { FrameOf } from '@pulse/proto';
import { PulseError } from './errors.ts';
import type { ApprovalSubscription, LinkDirectory, LinkRequest } from './ports/link-directory.ts';

/** A new device waiting on a connection of THIS node for a device of its account to approve it (PROTOCOL.md "Linking"). */
export interface WaitingDevice {
  readonly account: string;
  /** Builds the link's request (with the link id `add` was given) from the highest device id proposed to the account's other live links. */
  readonly make: (highestProposed: number) => LinkRequest;
  /** Sends `link_approved` to the waiting connection. */
  readonly approve: (frame: FrameOf<'link_approved'>) => void;
  /** False once the waiting connection closed: the link is gone (nobody would receive the approval). */
  readonly waiting: () => boolean;
}

export interface PendingLinksLimits {
  /** Links pending per account at once (anyone may ask to join any account): cluster-wide. */
  readonly maxPendingLinks: number;
  /** Links whose new device waits on this node at once. */
  readonly maxPendingLinksTotal: number;
}

interface Held {
  readonly account: string;
  /** Infinite until the directory took the link. */
  expiresAt: number;
  readonly waiting: () => boolean;
  readonly subscription: ApprovalSubscription;
}

/**
 * The pending links: shown and approved through the LinkDirectory (every node
 * sees them), held by the node whose connection the new device waits on.
 *
 * Bounds, since asking costs the asker nothing but an authentication attempt:
 * per account (`maxPendingLinks`) in the directory, in the same step as the
 * write, so it holds across nodes; per node (`maxPendingLinksTotal`) over the
 * links this node holds, which are what costs it (a connection and a
 * subscription each): a cluster of N nodes holds at most N times that. A link
 * ends at `expiresAt`, on approval, or when its connection closes: on this
 * node at once (each call sweeps), for the directory at the next sweep (each
 * call, and the heartbeat tick).
 */
export class PendingLinks {
  readonly #limits: PendingLinksLimits;
  readonly #directory: LinkDirectory;
  readonly #onError: (error: unknown) => void;
  /** linkId → the link this node holds. */
  readonly #held = new Map<string, Held>();

  constructor(limits: PendingLinksLimits, directory: LinkDirectory, onError: (error: unknown) => void) {
    this.#limits = limits;
    this.#directory = directory;
    this.#onError = onError;
  }

  /** Links whose new device waits on this node. */
  get size(): number {
    return this.#held.size;
  }

  /** Adds the link of a device waiting here; RATE_LIMITED when its account or this node holds the maximum. */
  async add(linkId: string, device: WaitingDevice, now: number): Promise<LinkRequest> {
    this.sweep(now);
    if (this.#held.size >= this.#limits.maxPendingLinksTotal) {
      throw new PulseError('RATE_LIMITED', 'too many devices are waiting to be linked: try again later');
    }
    const held: Held = {
      account: device.account,
      expiresAt: Number.POSITIVE_INFINITY,
      waiting: device.waiting,
      subscription: this.#directory.awaitApproval(linkId, (frame) => {
        if (this.#held.get(linkId) !== held) return;
        this.#forget(linkId);
        device.approve(frame);
      }),
    };
    // Held (and counted) before the directory is asked: concurrent requests on this node cannot pass the bound.
    this.#held.set(linkId, held);
    try {
      // Subscribed before the link is visible: no approval can come before we listen.
      await held.subscription.ready;
      const request = await this.#directory.add(device.account, device.make, this.#limits.maxPendingLinks, now);
      if (request === undefined) {
        throw new PulseError('RATE_LIMITED', `too many devices are waiting to join ${device.account}: try again later`);
      }
      held.expiresAt = request.expiresAt;
      return request;
    } catch (error) {
      this.#forget(linkId);
      throw error;
    }
  }

  /** The account's live links, on any node. */
  list(account: string, now: number): Promise<LinkRequest[]> {
    this.sweep(now);
    return this.#directory.list(account, now);
  }

  /** The live link `linkId` of `account`, on any node. */
  async get(account: string, linkId: string, now: number): Promise<LinkRequest | undefined> {
    return (await this.list(account, now)).find((l) => l.linkId === linkId);
  }

  /**
   * The link was approved (its device is in the list now): it leaves the
   * directory (so no node lists it after the approver's `ok`), and its device
   * hears so wherever it waits.
   */
  async approved(frame: FrameOf<'link_approved'>): Promise<void> {
    await this.#directory.remove(frame.account, frame.linkId).catch(this.#onError);
    this.#directory.approve(frame);
  }

  /** Ends the links held here that expired or whose connection closed (the heartbeat tick calls it too). */
  sweep(now: number): void {
    for (const [linkId, held] of this.#held) {
      if (held.expiresAt <= now || !held.waiting()) {
        const { account } = held;
        this.#forget(linkId);
        this.#directory.remove(account, linkId).catch(this.#onError);
      }
    }
  }

  #forget(linkId: string): void {
    this.#held.get(linkId)?.subscription.stop();
    this.#held.delete(linkId);
  }
}
