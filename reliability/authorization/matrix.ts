import { randomBytes } from 'node:crypto';
import { generateIdentityKeyPair, SenderCertificate } from '@pulse/crypto';
import {
  deviceListSignedMessage,
  type Frame,
  prekeysUploadSignedMessage,
  REQUEST_ANSWERS,
  type RequestType,
} from '@pulse/proto';
import { FrameClient } from '@pulse/testing/protocol';
import { authFrame, linkRequestFrame, registerFrame, retargetToken } from './frames.ts';
import { buildWorld, requestLink, type World } from './world.ts';

/**
 * The authorization matrix (issue 11): every request type of proto's request
 * table (REQUEST_ANSWERS), tried by three principals who must not get what
 * they ask for — an unauthenticated connection, another account, and a device
 * removed from its account — each with the code that must refuse it
 * (PROTOCOL.md "Errors"). A request the protocol lets any authenticated device
 * send (reading another account's device list or prekey bundle, syncing,
 * listing links) is tried for the other account's data, and "CONFINED" means
 * the answer held none of it.
 *
 * The table's type has one row per request type, so a new request type without
 * a row does not compile, and `requestTypesWithoutRow` finds it at run time.
 */
export const PRINCIPALS = ['unauthenticated', 'another account', 'removed device'] as const;
export type Principal = (typeof PRINCIPALS)[number];

export interface Cell {
  /** What the principal tries. */
  readonly attempt: string;
  /** The refusal: an error code, or CONFINED (answered, with nothing of the other account's). */
  readonly expected: string;
  /** Tries it; resolves with what happened (an error code, an answer type, or CONFINED). */
  readonly run: (world: World) => Promise<string>;
}
export type Row = Readonly<Record<Principal, Cell>>;

export const CONFINED = 'CONFINED';

/** The answer's error code, or its frame type. */
function outcome(answer: Frame): string {
  return answer.type === 'error' ? answer.code : answer.type;
}

/**
 * Connections a cell opened: closed once the cell is decided, so the matrix never
 * holds more than a few unauthenticated connections (the server caps them per IP).
 */
const cellConnections: FrameClient[] = [];

async function fresh(world: World): Promise<FrameClient> {
  const client = await FrameClient.connect(world.open);
  cellConnections.push(client);
  return client;
}

async function ask(client: FrameClient, frame: Frame): Promise<Frame> {
  return client.request(frame);
}

/** The request on a connection that has only said hello: AUTH_REQUIRED. */
function unauthenticated(make: (world: World) => Frame): Cell {
  return {
    attempt: 'on a connection without auth_ok',
    expected: 'AUTH_REQUIRED',
    run: async (world) => outcome(await ask(await fresh(world), make(world))),
  };
}

/**
 * The removed device tries to come back (its signature, then its old token),
 * then sends the request anyway: every step refused.
 */
function removedDevice(make: (world: World) => Frame): Cell {
  return {
    attempt: 'auth by signature, auth_token with its old token, then the request',
    expected: 'AUTH_FAILED, AUTH_FAILED, AUTH_REQUIRED',
    run: async (world) => {
      const { removed } = world;
      let client = await fresh(world);
      const bySignature = outcome(
        await ask(client, authFrame(client.challenge, removed.account, removed.deviceId, removed.identity)),
      );
      if (client.isClosed) client = await fresh(world);
      const byToken = outcome(await ask(client, { type: 'auth_token', id: 0, token: world.removedToken }));
      if (client.isClosed) client = await fresh(world);
      const request = outcome(await ask(client, make(world)));
      return `${bySignature}, ${byToken}, ${request}`;
    },
  };
}

/** `run` on bob's authenticated connection. */
function anotherAccount(attempt: string, expected: string, run: (world: World) => Promise<string>): Cell {
  return { attempt, expected, run };
}

const publicKey = () => Uint8Array.from([0x05, ...randomBytes(32)]);

export const AUTHORIZATION_MATRIX: { readonly [T in RequestType]: Row } = {
  register: {
    unauthenticated: {
      attempt: "register alice's account name anew",
      expected: 'ACCOUNT_EXISTS',
      run: async (world) => {
        const client = await fresh(world);
        return outcome(
          await ask(
            client,
            registerFrame(client.challenge, world.alice.account, generateIdentityKeyPair(), generateIdentityKeyPair()),
          ),
        );
      },
    },
    'another account': anotherAccount(
      "bob, on his authenticated connection, registers alice's account name (a connection's identity is fixed)",
      'FORBIDDEN',
      async ({ bob, alice }) =>
        outcome(
          await ask(
            bob.client,
            registerFrame(bob.client.challenge, alice.account, generateIdentityKeyPair(), generateIdentityKeyPair()),
          ),
        ),
    ),
    'removed device': {
      attempt: "register alice's account name with its own keys",
      expected: 'ACCOUNT_EXISTS',
      run: async (world) => {
        const client = await fresh(world);
        const { removed } = world;
        return outcome(
          await ask(
            client,
            registerFrame(client.challenge, removed.account, removed.identity, removed.accountIdentity),
          ),
        );
      },
    },
  },
  auth: {
    unauthenticated: {
      attempt: "auth as alice's device 1, signed by another key",
      expected: 'AUTH_FAILED',
      run: async (world) => {
        const client = await fresh(world);
        return outcome(
          await ask(client, authFrame(client.challenge, world.alice.account, 1, generateIdentityKeyPair())),
        );
      },
    },
    'another account': anotherAccount(
      "bob, on his authenticated connection, signs an auth as alice's device 1",
      'FORBIDDEN',
      async ({ bob, alice }) =>
        outcome(await ask(bob.client, authFrame(bob.client.challenge, alice.account, 1, bob.identity))),
    ),
    'removed device': {
      attempt: 'auth by its own valid signature',
      expected: 'AUTH_FAILED',
      run: async (world) => {
        const client = await fresh(world);
        const { removed } = world;
        return outcome(
          await ask(client, authFrame(client.challenge, removed.account, removed.deviceId, removed.identity)),
        );
      },
    },
  },
  auth_token: {
    unauthenticated: {
      attempt: 'a forged token (random bytes)',
      expected: 'AUTH_FAILED',
      run: async (world) =>
        outcome(await ask(await fresh(world), { type: 'auth_token', id: 0, token: new Uint8Array(randomBytes(80)) })),
    },
    'another account': anotherAccount("bob's token rewritten to name alice", 'AUTH_FAILED', async (world) =>
      outcome(
        await ask(await fresh(world), {
          type: 'auth_token',
          id: 0,
          token: retargetToken(world.bobToken, world.bob.account, world.alice.account),
        }),
      ),
    ),
    'removed device': {
      attempt: 'its token from before the removal',
      expected: 'AUTH_FAILED',
      run: async (world) =>
        outcome(await ask(await fresh(world), { type: 'auth_token', id: 0, token: world.removedToken })),
    },
  },
  device_list: {
    unauthenticated: unauthenticated(() => ({ type: 'device_list', id: 0 })),
    'another account': anotherAccount(
      "bob reads alice's device list: no last-seen times, no removed device",
      CONFINED,
      async ({ bob, alice, removed }) => {
        const answer = await ask(bob.client, { type: 'device_list', id: 0, account: alice.account });
        if (answer.type !== 'devices') return outcome(answer);
        const ids = (answer.deviceList.devices as { deviceId: number }[]).map((d) => d.deviceId);
        if (answer.lastSeen !== undefined) return "alice's lastSeen disclosed";
        return ids.includes(removed.deviceId) ? 'removed device listed' : CONFINED;
      },
    ),
    'removed device': removedDevice(() => ({ type: 'device_list', id: 0 })),
  },
  device_list_update: {
    unauthenticated: unauthenticated((world) => reAddRemoved(world)),
    'another account': anotherAccount(
      "bob submits alice's signed device list (a copy anyone can read)",
      'DEVICE_LIST_INVALID',
      async ({ bob, alice }) => {
        const list = await ask(bob.client, { type: 'device_list', id: 0, account: alice.account });
        if (list.type !== 'devices') return `device_list ${outcome(list)}`;
        return outcome(await ask(bob.client, { type: 'device_list_update', id: 0, deviceList: list.deviceList }));
      },
    ),
    'removed device': removedDevice((world) => reAddRemoved(world)),
  },
  link_request: {
    unauthenticated: {
      attempt: "a valid link request for alice's account, then auth as the device it proposes (nobody approved)",
      expected: 'AUTH_FAILED',
      run: async (world) => {
        const identity = generateIdentityKeyPair();
        const pending = await requestLink(world.open, world.alice.account, identity, (c) => cellConnections.push(c));
        const deviceId = await proposedDeviceId(world, pending.linkId);
        return outcome(
          await ask(pending.client, authFrame(pending.client.challenge, world.alice.account, deviceId, identity)),
        );
      },
    },
    'another account': anotherAccount(
      "bob approves a link pending on alice's account (in his own signed list)",
      'LINK_NOT_FOUND',
      async ({ bob, alice, open }) => {
        const identity = generateIdentityKeyPair();
        const pending = await requestLink(open, alice.account, identity, (c) => cellConnections.push(c));
        const current = await ask(bob.client, { type: 'device_list', id: 0 });
        if (current.type !== 'devices') return `device_list ${outcome(current)}`;
        const devices = [
          ...(current.deviceList.devices as {
            deviceId: number;
            identityKey: Uint8Array;
            name: string;
            addedAt: number;
          }[]),
          { deviceId: 1000, identityKey: identity.publicKey, name: 'hijack', addedAt: 3 },
        ];
        const version = current.deviceList.version + 1;
        const signature = bob.accountIdentity.sign(deviceListSignedMessage({ account: bob.account, version, devices }));
        return outcome(
          await ask(bob.client, {
            type: 'device_list_update',
            id: 0,
            deviceList: { version, devices, signature },
            link: { linkId: pending.linkId, provisioning: new Uint8Array(16) },
          }),
        );
      },
    ),
    'removed device': {
      attempt: 'asks to link again with its old key, then auth as its old id',
      expected: 'AUTH_FAILED',
      run: async (world) => {
        const { removed } = world;
        const client = await fresh(world);
        await ask(client, linkRequestFrame(client.challenge, removed.account, removed.identity));
        const retry = client.isClosed ? await fresh(world) : client;
        return outcome(
          await ask(retry, authFrame(retry.challenge, removed.account, removed.deviceId, removed.identity)),
        );
      },
    },
  },
  link_list: {
    unauthenticated: unauthenticated(() => ({ type: 'link_list', id: 0 })),
    'another account': anotherAccount(
      "bob lists links: none of alice's pending ones",
      CONFINED,
      async ({ bob, aliceLinkId }) => {
        const answer = await ask(bob.client, { type: 'link_list', id: 0 });
        if (answer.type !== 'links') return outcome(answer);
        return answer.requests.some((r) => r.linkId === aliceLinkId) ? "alice's pending link listed" : CONFINED;
      },
    ),
    'removed device': removedDevice(() => ({ type: 'link_list', id: 0 })),
  },
  prekeys_upload: {
    unauthenticated: unauthenticated((world) => signedPreKeyUpload(world)),
    'another account': anotherAccount(
      "bob uploads a signed prekey signed by alice's identity key",
      'BAD_SIGNATURE',
      async (world) => outcome(await ask(world.bob.client, signedPreKeyUpload(world))),
    ),
    'removed device': removedDevice((world) => signedPreKeyUpload(world)),
  },
  bundle_fetch: {
    unauthenticated: unauthenticated(({ alice }) => ({ type: 'bundle_fetch', id: 0, account: alice.account })),
    'another account': anotherAccount(
      "bob fetches alice's bundles: none for the removed device",
      CONFINED,
      async ({ bob, alice, removed }) => {
        const answer = await ask(bob.client, { type: 'bundle_fetch', id: 0, account: alice.account });
        if (answer.type !== 'bundles') return outcome(answer);
        return answer.bundles.some((b) => b.deviceId === removed.deviceId)
          ? 'a bundle of the removed device'
          : CONFINED;
      },
    ),
    'removed device': removedDevice(({ alice }) => ({ type: 'bundle_fetch', id: 0, account: alice.account })),
  },
  send: {
    unauthenticated: unauthenticated((world) => sendToAlice(world, [1])),
    'another account': anotherAccount(
      "bob sends to alice's devices including the removed one",
      'DEVICES_MISMATCH',
      async (world) => outcome(await ask(world.bob.client, sendToAlice(world, [1, world.removed.deviceId]))),
    ),
    'removed device': removedDevice((world) => sendToAlice(world, [1])),
  },
  sender_certificate: {
    unauthenticated: unauthenticated(() => ({ type: 'sender_certificate', id: 0 })),
    'another account': anotherAccount(
      'bob asks for a sender certificate: it names bob and his key, never alice',
      CONFINED,
      async ({ bob }) => {
        const answer = await ask(bob.client, { type: 'sender_certificate', id: 0 });
        if (answer.type !== 'certificate') return outcome(answer);
        const certificate = SenderCertificate.deserialize(answer.certificate);
        return certificate.account === bob.account ? CONFINED : `a certificate for ${certificate.account}`;
      },
    ),
    'removed device': removedDevice(() => ({ type: 'sender_certificate', id: 0 })),
  },
  set_delivery_token: {
    unauthenticated: unauthenticated(() => ({ type: 'set_delivery_token', id: 0, token: new Uint8Array(32) })),
    'another account': anotherAccount(
      "bob registers a delivery token (his own account's), then seals to alice with it",
      'UNAUTHORIZED',
      async (world) => {
        const token = new Uint8Array(randomBytes(32));
        await ask(world.bob.client, { type: 'set_delivery_token', id: 0, token });
        return outcome(await ask(world.bob.client, sealedToAlice(world, token)));
      },
    ),
    'removed device': removedDevice(() => ({ type: 'set_delivery_token', id: 0, token: new Uint8Array(32) })),
  },
  sealed_send: {
    unauthenticated: unauthenticated((world) => sealedToAlice(world, new Uint8Array(32))),
    'another account': anotherAccount(
      'bob sends sealed to alice without her delivery token',
      'UNAUTHORIZED',
      async (world) => outcome(await ask(world.bob.client, sealedToAlice(world, new Uint8Array(randomBytes(32))))),
    ),
    'removed device': removedDevice((world) => sealedToAlice(world, new Uint8Array(32))),
  },
  sync: {
    unauthenticated: unauthenticated(() => ({ type: 'sync', id: 0 })),
    'another account': anotherAccount(
      'bob syncs while alice has envelopes queued: none of hers',
      CONFINED,
      async (world) => {
        await ask(world.bob.client, sendToAlice(world, [1]));
        const answer = await ask(world.bob.client, { type: 'sync', id: 0 });
        if (answer.type !== 'sync_done') return outcome(answer);
        const delivered = world.bob.client.inbox.filter((f) => f.type === 'deliver').length;
        return answer.delivered === 0 && delivered === 0 ? CONFINED : `${answer.delivered} delivered to bob`;
      },
    ),
    'removed device': removedDevice(() => ({ type: 'sync', id: 0 })),
  },
  subscribe: {
    unauthenticated: unauthenticated(({ aliceChannel }) => ({ type: 'subscribe', id: 0, channel: aliceChannel })),
    'another account': anotherAccount(
      "bob subscribes to alice's private channel",
      'FORBIDDEN',
      async ({ bob, aliceChannel }) =>
        outcome(await ask(bob.client, { type: 'subscribe', id: 0, channel: aliceChannel })),
    ),
    'removed device': removedDevice(({ aliceChannel }) => ({ type: 'subscribe', id: 0, channel: aliceChannel })),
  },
  unsubscribe: {
    unauthenticated: unauthenticated(({ aliceChannel }) => ({ type: 'unsubscribe', id: 0, channel: aliceChannel })),
    'another account': anotherAccount(
      "bob unsubscribes from alice's private channel (alice's subscription)",
      'NOT_FOUND',
      async ({ bob, aliceChannel }) =>
        outcome(await ask(bob.client, { type: 'unsubscribe', id: 0, channel: aliceChannel })),
    ),
    'removed device': removedDevice(({ aliceChannel }) => ({ type: 'unsubscribe', id: 0, channel: aliceChannel })),
  },
  publish: {
    unauthenticated: unauthenticated(({ alice }) => ({
      type: 'publish',
      id: 0,
      channel: `user:${alice.account}`,
      payload: new Uint8Array(8),
    })),
    'another account': anotherAccount("bob publishes on alice's user: channel", 'FORBIDDEN', async ({ bob, alice }) =>
      outcome(
        await ask(bob.client, { type: 'publish', id: 0, channel: `user:${alice.account}`, payload: new Uint8Array(8) }),
      ),
    ),
    'removed device': removedDevice(({ aliceChannel }) => ({
      type: 'publish',
      id: 0,
      channel: aliceChannel,
      payload: new Uint8Array(8),
    })),
  },
};

/** A device list that puts the removed device back, signed with the account key it still holds. */
function reAddRemoved({ removed, alice }: World): Frame {
  const devices = [
    { deviceId: 1, identityKey: alice.identity.publicKey, name: 'first', addedAt: 1 },
    { deviceId: removed.deviceId, identityKey: removed.identity.publicKey, name: 'back', addedAt: 2 },
  ];
  const version = 100;
  const signature = removed.accountIdentity.sign(
    deviceListSignedMessage({ account: removed.account, version, devices }),
  );
  return { type: 'device_list_update', id: 0, deviceList: { version, devices, signature } };
}

/**
 * An upload of a signed prekey that alice's identity key signed, with bob's
 * valid proof for his own connection: from bob, only the prekey's signature
 * can be wrong.
 */
function signedPreKeyUpload({ alice, bob }: World): Frame {
  const key = publicKey();
  return {
    type: 'prekeys_upload',
    id: 0,
    signedPreKey: { keyId: 7, publicKey: key, signature: alice.identity.sign(key) },
    proof: bob.identity.sign(prekeysUploadSignedMessage(bob.client.challenge, bob.account, bob.deviceId)),
  };
}

/** A sealed send to alice's device 1 presenting `deliveryToken` (PROTOCOL.md "Sealed sender"). */
function sealedToAlice({ alice }: World, deliveryToken: Uint8Array): Frame {
  return {
    type: 'sealed_send',
    id: 0,
    to: alice.account,
    deliveryToken,
    envelopes: [{ deviceId: 1, payload: new Uint8Array(16) }],
  };
}

function sendToAlice({ alice }: World, deviceIds: readonly number[]): Frame {
  return {
    type: 'send',
    id: 0,
    to: alice.account,
    envelopes: deviceIds.map((deviceId) => ({ deviceId, payload: new Uint8Array(16) })),
  };
}

/** The device id the server proposed for a pending link, as alice's devices see it. */
async function proposedDeviceId({ alice }: World, linkId: string): Promise<number> {
  const links = await ask(alice.client, { type: 'link_list', id: 0 });
  const request = links.type === 'links' ? links.requests.find((r) => r.linkId === linkId) : undefined;
  if (request === undefined) throw new Error(`link ${linkId} is not listed to alice`);
  return request.deviceId;
}

/** Request types of proto's table with no row here (the matrix must grow with the protocol). */
export function requestTypesWithoutRow(): string[] {
  return Object.keys(REQUEST_ANSWERS).filter((type) => !Object.hasOwn(AUTHORIZATION_MATRIX, type));
}

export interface CellResult {
  readonly type: RequestType;
  readonly principal: Principal;
  readonly attempt: string;
  readonly expected: string;
  readonly observed: string;
  readonly holds: boolean;
}

/** Builds the accounts on `open` and tries every cell, one after another. */
export async function runAuthorizationMatrix(open: World['open']): Promise<{ world: World; results: CellResult[] }> {
  const world = await buildWorld(open);
  const results: CellResult[] = [];
  for (const type of Object.keys(REQUEST_ANSWERS) as RequestType[]) {
    const row = AUTHORIZATION_MATRIX[type];
    if (row === undefined) continue; // reported by requestTypesWithoutRow
    for (const principal of PRINCIPALS) {
      const cell = row[principal];
      const observed = await cell
        .run(world)
        .finally(() => {
          for (const client of cellConnections.splice(0)) client.close();
        })
        .catch((error: unknown) => `threw: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}`);
      results.push({
        type,
        principal,
        attempt: cell.attempt,
        expected: cell.expected,
        observed,
        holds: observed === cell.expected,
      });
    }
  }
  return { world, results };
}
