import type { FrameOf } from '@pulse/proto';

/** A pending link as the account's devices see it (`link_requested`, `links`). */
export type LinkRequest = Omit<FrameOf<'link_requested'>, 'type'>;

/** Hearing the approval of one link; `ready` settles once an approval sent after it cannot be missed. */
export interface ApprovalSubscription {
  readonly ready: Promise<void>;
  stop(): void;
}

/**
 * Where pending links live (PROTOCOL.md "Linking"), so that any node can list
 * and approve a link whose new device waits on another node (issue 13). The
 * new device's connection stays on the node it reached: that node subscribes
 * to its link's approval, and the approving node sends it there.
 *
 * Implementations: MemoryLinkDirectory (one node, below) and
 * edge/cluster/nats-link-directory.ts (NATS KV, one record per account,
 * written by compare-and-set, and NATS core pub/sub for approvals).
 * Expired links (`expiresAt` <= now) are never returned.
 */
export interface LinkDirectory {
  /**
   * Adds the link `make` builds unless the account already has `maxPerAccount`
   * live links (undefined then). `make` gets the highest device id proposed to
   * a live link of the account (0: none), so two links never get the same one;
   * the count and that id are read in the same step as the write.
   */
  add(
    account: string,
    make: (highestProposed: number) => LinkRequest,
    maxPerAccount: number,
    now: number,
  ): Promise<LinkRequest | undefined>;
  /** The account's live links, oldest first. */
  list(account: string, now: number): Promise<LinkRequest[]>;
  remove(account: string, linkId: string): Promise<void>;
  /** Calls `onApproved` when some node approves `linkId` (the new device waits on this node). */
  awaitApproval(linkId: string, onApproved: (frame: FrameOf<'link_approved'>) => void): ApprovalSubscription;
  /** Sends the approval to the node where the new device waits (best effort: it may have left). */
  approve(frame: FrameOf<'link_approved'>): void;
}

/** One node alone: the links in memory, approvals by direct call. */
export class MemoryLinkDirectory implements LinkDirectory {
  /** linkId → link, in insertion order (oldest first). */
  readonly #links = new Map<string, { readonly account: string; readonly request: LinkRequest }>();
  readonly #waiting = new Map<string, (frame: FrameOf<'link_approved'>) => void>();

  async add(
    account: string,
    make: (highestProposed: number) => LinkRequest,
    maxPerAccount: number,
    now: number,
  ): Promise<LinkRequest | undefined> {
    const live = await this.list(account, now);
    if (live.length >= maxPerAccount) return undefined;
    const request = make(Math.max(0, ...live.map((l) => l.deviceId)));
    this.#links.set(request.linkId, { account, request });
    return request;
  }

  async list(account: string, now: number): Promise<LinkRequest[]> {
    const live: LinkRequest[] = [];
    for (const [linkId, link] of this.#links) {
      if (link.request.expiresAt <= now) this.#links.delete(linkId);
      else if (link.account === account) live.push(link.request);
    }
    return live;
  }

  async remove(account: string, linkId: string): Promise<void> {
    if (this.#links.get(linkId)?.account === account) this.#links.delete(linkId);
  }

  awaitApproval(linkId: string, onApproved: (frame: FrameOf<'link_approved'>) => void): ApprovalSubscription {
    this.#waiting.set(linkId, onApproved);
    return {
      ready: Promise.resolve(),
      stop: () => {
        if (this.#waiting.get(linkId) === onApproved) this.#waiting.delete(linkId);
      },
    };
  }

  approve(frame: FrameOf<'link_approved'>): void {
    this.#waiting.get(frame.linkId)?.(frame);
  }
}
