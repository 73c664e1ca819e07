/**
 * The browser path for real: the package bundled for the browser (no Node APIs) runs a
 * PQXDH session, a Double Ratchet exchange, a Sender Keys message and XEdDSA in Chromium
 * with WebCrypto primitives, and a signature made there verifies here (and vice versa).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { bundleForBrowser, launchChromium } from '@pulse/testing/browsers';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../src/bytes.ts';
import { generateIdentityKeyPair, safetyNumber, xeddsaVerify } from '../src/index.ts';

const entryFile = fileURLToPath(new URL('../src/index.ts', import.meta.url));

const scenario = `
  import * as c from ${JSON.stringify(entryFile)};
  const enc = (s) => new TextEncoder().encode(s);
  const dec = (b) => new TextDecoder().decode(b);
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));
  window.run = async (nodeKey, nodeMessage, nodeSignature) => {
    const alice = c.generateIdentityKeyPair();
    const bob = c.generateIdentityKeyPair();
    const store = new c.InMemoryPrekeyStore()
      .addSignedPreKey(c.generateSignedPreKey(bob, 1))
      .addPqPreKey(c.generatePqPreKey(bob, 2, { lastResort: true }))
      .addOneTimePreKeys(c.generateOneTimePreKeys(3, 1));
    const bundle = {
      identityKey: bob.publicKey,
      signedPreKey: store.getSignedPreKey(1).toPublic(),
      pqPreKey: store.getPqPreKey(2).toPublic(),
      oneTimePreKey: store.getOneTimePreKey(3).toPublic(),
    };
    const a = new c.SessionRecord();
    await a.initiate(alice, bundle);
    const b = new c.SessionRecord();
    const first = await b.decrypt(bob, store, await a.encrypt(enc('hi bob')));
    const aliceStore = new c.InMemoryPrekeyStore();
    const reply = dec((await a.decrypt(alice, aliceStore, await b.encrypt(enc('hi alice')))).plaintext);
    const restored = c.SessionRecord.deserialize(a.serialize());
    const third = dec((await b.decrypt(bob, store, await restored.encrypt(enc('after restore')))).plaintext);
    // Two records in one page on different paths at once: noble beside the default.
    const viaNoble = new c.SessionRecord({ primitives: c.primitivesByName('noble') });
    await viaNoble.initiate(alice, { ...bundle, oneTimePreKey: undefined });
    const [fromNoble, fromDefault] = await Promise.all([viaNoble.encrypt(enc('noble')), restored.encrypt(enc('default'))]);
    const mixed = [
      dec((await new c.SessionRecord().decrypt(bob, store, fromNoble)).plaintext),
      dec((await b.decrypt(bob, store, fromDefault)).plaintext),
    ];
    const group = c.SenderKeyRecord.createForSending();
    const member = c.SenderKeyRecord.fromDistributionMessage(group.createDistributionMessage());
    const groupText = dec(await member.decrypt(await group.encrypt(enc('to the group'))));
    let duplicate = 'accepted';
    const once = await restored.encrypt(enc('once'));
    await b.decrypt(bob, store, once);
    try { await b.decrypt(bob, store, once); } catch (e) { duplicate = e.code; }
    return {
      primitives: c.defaultPrimitives().name,
      first: dec(first.plaintext), reply, third, mixed, groupText, duplicate,
      verifiesNodeSignature: c.xeddsaVerify(unhex(nodeKey), unhex(nodeMessage), unhex(nodeSignature)),
      browserKey: hex(alice.publicKey),
      safety: c.safetyNumber({ identifier: enc('alice'), identityKey: unhex(nodeKey) }, { identifier: enc('bob'), identityKey: alice.publicKey }),
      browserSignature: hex(alice.sign(enc('signed in the browser'))),
    };
  };
`;

describe('crypto/ in Chromium', () => {
  it('runs sessions, groups and XEdDSA in the browser (WebCrypto over http://127.0.0.1, noble on an insecure page), interoperating with Node', async () => {
    const script = await bundleForBrowser(scenario, fileURLToPath(new URL('..', import.meta.url)));
    expect(script).not.toContain('require("node:');

    const nodeIdentity = generateIdentityKeyPair();
    const nodeMessage = new TextEncoder().encode('signed in node');
    const nodeSignature = nodeIdentity.sign(nodeMessage);

    // A real local server: 127.0.0.1 is a secure context, so crypto.subtle exists there.
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>crypto</title><script>${script.replaceAll('</script', '<\\/script')}</script>`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const browser = await launchChromium();
    try {
      for (const secure of [true, false]) {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        if (secure) {
          await page.goto(`http://127.0.0.1:${port}/`);
        } else {
          await page.setContent('<!doctype html><title>insecure</title>');
          await page.addScriptTag({ content: script });
        }
        const result = await page.evaluate(
          ([k, m, s]) =>
            (window as unknown as { run: (...a: string[]) => Promise<Record<string, unknown>> }).run(k!, m!, s!),
          [toHex(nodeIdentity.publicKey), toHex(nodeMessage), toHex(nodeSignature)],
        );
        expect(errors).toEqual([]);
        expect(result).toMatchObject({
          primitives: secure ? 'webcrypto' : 'noble',
          first: 'hi bob',
          reply: 'hi alice',
          third: 'after restore',
          mixed: ['noble', 'default'],
          groupText: 'to the group',
          duplicate: 'CRYPTO_DUPLICATE_MESSAGE',
          verifiesNodeSignature: true,
        });
        const browserSigned = new TextEncoder().encode('signed in the browser');
        // The browser computes safety numbers with noble's SHA-512, Node with OpenSSL: same digits.
        expect(result.safety).toBe(
          safetyNumber(
            { identifier: new TextEncoder().encode('alice'), identityKey: nodeIdentity.publicKey },
            { identifier: new TextEncoder().encode('bob'), identityKey: fromHex(result.browserKey as string) },
          ),
        );
        expect(
          xeddsaVerify(fromHex(result.browserKey as string), browserSigned, fromHex(result.browserSignature as string)),
        ).toBe(true);
        await page.close();
      }
    } finally {
      await browser.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
