import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyring, type AgentKey } from '../../../src/ssh/agent/keyring.js';
import { answer, FORGET_EXTENSION } from '../../../src/ssh/agent/server.js';
import { generateKey } from '../../../src/ssh/keys.js';
import { parseKeyBlob, verifySignature } from '../../../src/ssh/public-key.js';
import { signingKey } from '../../../src/ssh/sign.js';
import { Reader, Writer } from '../../../src/ssh/wire.js';

const FAILURE = Buffer.from([5]);
const SUCCESS = Buffer.from([6]);

async function agentKey(name: string, extra: Partial<AgentKey> = {}): Promise<AgentKey> {
  const made = await generateKey({ type: 'ed25519', comment: name });
  return { name, comment: name, signer: await signingKey(made.privateKey, name), confirm: false, ...extra };
}

const signRequest = (blob: Buffer, data: Buffer, flags = 0) => new Writer().raw(Buffer.from([13])).string(blob).string(data).uint32(flags).bytes();
const identities = async (ring: Keyring) => {
  const r = new Reader(await answer(ring, Buffer.from([11])), 'answer');
  expect(r.byte()).toBe(12);
  return r.uint32();
};

describe('the agent keyring and its protocol (in-process, injected clock)', () => {
  it('lists and signs; the signature verifies; an unknown key is refused', async () => {
    const key = await agentKey('work');
    const ring = new Keyring([key], { allowAdd: false, confirm: async () => true, now: () => 0 });
    expect(await identities(ring)).toBe(1);
    const data = Buffer.from('session data');
    const reply = await answer(ring, signRequest(key.signer.publicKey.blob, data));
    const r = new Reader(reply, 'reply');
    expect(r.byte()).toBe(14);
    expect(verifySignature(parseKeyBlob(key.signer.publicKey.blob), r.string(), data)).toBe('ssh-ed25519');
    const other = await agentKey('other');
    expect(await answer(ring, signRequest(other.signer.publicKey.blob, data))).toEqual(FAILURE);
  });

  it('a key is forgotten when its lifetime is over, by the clock it is given', async () => {
    let now = 1_000;
    const ring = new Keyring([await agentKey('short', { expiresAt: 2_000 }), await agentKey('long', { expiresAt: 10_000 })], { allowAdd: false, confirm: async () => true, now: () => now });
    expect(await identities(ring)).toBe(2);
    now = 2_000;
    expect(await identities(ring)).toBe(1);
    now = 10_000;
    expect(await identities(ring)).toBe(0);
  });

  it('confirmation: a refusal fails the signature; a key forgotten while the person is asked is not used', async () => {
    const key = await agentKey('work', { confirm: true });
    let allow = false;
    let ring!: Keyring;
    ring = new Keyring([key], { allowAdd: false, confirm: async () => allow, now: () => 0 });
    expect(await answer(ring, signRequest(key.signer.publicKey.blob, Buffer.from('x')))).toEqual(FAILURE);
    allow = true;
    expect((await answer(ring, signRequest(key.signer.publicKey.blob, Buffer.from('x'))))[0]).toBe(14);
    // vault lock while the question is open: the yes that comes after must not sign.
    ring = new Keyring([key], { allowAdd: false, confirm: async () => { ring.forget(); return true; }, now: () => 0 });
    expect(await answer(ring, signRequest(key.signer.publicKey.blob, Buffer.from('x')))).toEqual(FAILURE);
  });

  it('lock and unlock (ssh-add -x/-X): nothing listed or signed while locked; a wrong passphrase does not unlock', async () => {
    const key = await agentKey('work');
    const ring = new Keyring([key], { allowAdd: false, confirm: async () => true, now: () => 0 });
    const lock = (type: number, p: string) => answer(ring, new Writer().raw(Buffer.from([type])).string(p).bytes());
    expect(await lock(22, 'pw')).toEqual(SUCCESS);
    expect(await lock(22, 'again')).toEqual(FAILURE);
    expect(await identities(ring)).toBe(0);
    expect(await answer(ring, signRequest(key.signer.publicKey.blob, Buffer.from('x')))).toEqual(FAILURE);
    expect(await lock(23, 'wrong')).toEqual(FAILURE);
    expect(await lock(23, 'pw')).toEqual(SUCCESS);
    expect(await identities(ring)).toBe(1);
  });

  it('adding and removing are refused unless allowed; the forget extension always works', async () => {
    const key = await agentKey('work');
    const ring = new Keyring([key], { allowAdd: false, confirm: async () => true, now: () => 0 });
    expect(await answer(ring, Buffer.from([19]))).toEqual(FAILURE);
    expect(await answer(ring, new Writer().raw(Buffer.from([18])).string(key.signer.publicKey.blob).bytes())).toEqual(FAILURE);
    expect(await identities(ring)).toBe(1);
    expect(await answer(ring, new Writer().raw(Buffer.from([27])).string(FORGET_EXTENSION).bytes())).toEqual(SUCCESS);
    expect(await identities(ring)).toBe(0);
    expect(await answer(ring, new Writer().raw(Buffer.from([27])).string('query').bytes())).toEqual(FAILURE);
  });

  it('whatever the bytes, a request gets an answer and never throws (fast-check)', async () => {
    const key = await agentKey('work');
    const ring = new Keyring([key], { allowAdd: true, confirm: async () => true, now: () => 0 });
    const types = fc.constantFrom(0, 1, 5, 11, 13, 17, 18, 19, 22, 23, 25, 27, 255);
    await fc.assert(fc.asyncProperty(types, fc.uint8Array({ maxLength: 300 }), async (type, rest) => {
      const reply = await answer(ring, Buffer.concat([Buffer.from([type]), rest]));
      expect([5, 6, 12, 14]).toContain(reply[0]);
    }), { numRuns: Number(process.env.KEYSMITH_FUZZ_RUNS ?? 500) });
  });
});
