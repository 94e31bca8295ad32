import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { generateKey } from '../../src/ssh/keys.js';
import { parseKeyBlob, verifySignature } from '../../src/ssh/public-key.js';
import { signingKey, sshSign, type RsaSignature } from '../../src/ssh/sign.js';
import { Writer } from '../../src/ssh/wire.js';
import { tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

/** An SSHSIG signature (PROTOCOL.sshsig), made by keysmith's signer, armored as ssh-keygen -Y sign writes it. */
function sshsig(key: Awaited<ReturnType<typeof signingKey>>, message: Buffer, namespace: string, rsa?: RsaSignature): string {
  const h = createHash('sha512').update(message).digest();
  const signed = new Writer().raw(Buffer.from('SSHSIG')).string(namespace).string('').string('sha512').string(h).bytes();
  const blob = new Writer().raw(Buffer.from('SSHSIG')).uint32(1).string(key.publicKey.blob).string(namespace).string('').string('sha512').string(sshSign(key, signed, rsa)).bytes();
  return `-----BEGIN SSH SIGNATURE-----\n${blob.toString('base64').replace(/.{70}/g, '$&\n')}\n-----END SSH SIGNATURE-----\n`;
}

describeWith(['ssh-keygen'], 'keysmith signs with keys ssh-keygen made, as ssh-keygen verifies', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const message = Buffer.from('the message\n');
  writeFileSync(join(home, 'msg'), message);

  it.each([
    ['ed25519', []], ['ecdsa', ['-b', '256']], ['ecdsa', ['-b', '384']], ['ecdsa', ['-b', '521']],
    ['rsa', ['-b', '3072']], ['rsa', ['-b', '3072', '-m', 'PEM']], ['rsa', ['-b', '3072', '-m', 'PKCS8']], ['ecdsa', ['-b', '384', '-m', 'PEM']],
    ['ed25519', ['-N', 'pass phrase', '-a', '2']], ['rsa', ['-b', '3072', '-N', 'pass phrase', '-m', 'PEM']],
  ] as const)('%s %s: ssh-keygen -Y check-novalidate accepts the signature; a changed message fails', async (type, args) => {
    const path = join(home, `k-${type}-${args.join('')}`);
    const passphrase = (args as readonly string[]).includes('-N') ? 'pass phrase' : undefined;
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(passphrase ? [] : ['-N', '']), ...args, '-C', 'c', '-f', path]);
    const key = await signingKey(readFileSync(path, 'utf8'), path, passphrase);
    const rsaKinds: RsaSignature[] = type === 'rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : ['rsa-sha2-512'];
    for (const rsa of rsaKinds) {
      writeFileSync(`${path}.sig`, sshsig(key, message, 'file', rsa));
      const ok = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', `${path}.sig`], { input: message, encoding: 'utf8' });
      expect(ok.status, ok.stderr).toBe(0);
      const bad = spawnSync('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', `${path}.sig`], { input: 'another message\n', encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    }
    // And keysmith's own verifier (differentially tested on certificates) agrees, for every RSA hash.
    const material = parseKeyBlob(key.publicKey.blob);
    for (const rsa of ['ssh-rsa', 'rsa-sha2-256', 'rsa-sha2-512'] as const) {
      const want = type === 'rsa' ? rsa : material.algorithm;
      expect(verifySignature(material, sshSign(key, message, rsa), message)).toBe(want);
    }
  });

  it('keys keysmith made sign too; an encrypted key without its passphrase and a damaged one are refused', async () => {
    for (const type of ['ed25519', 'ecdsa', 'rsa'] as const) {
      const made = await generateKey({ type, comment: 'k' });
      const key = await signingKey(made.privateKey, 'made');
      expect(verifySignature(parseKeyBlob(made.publicKey.blob), sshSign(key, message), message)).toBeTruthy();
    }
    const locked = await generateKey({ type: 'ed25519', comment: 'k', passphrase: 'p', rounds: 1 });
    await expect(signingKey(locked.privateKey, 'locked')).rejects.toMatchObject({ code: 'ERR_SSH_PASSPHRASE_NEEDED' });
    await expect(signingKey(locked.privateKey, 'locked', 'wrong')).rejects.toMatchObject({ code: 'ERR_SSH_PASSPHRASE' });
    expect((await signingKey(locked.privateKey, 'locked', 'p')).publicKey.algorithm).toBe('ssh-ed25519');
    const path = join(home, 'dsa');
    const dsa = spawnSync('ssh-keygen', ['-q', '-t', 'dsa', '-N', '', '-f', path]);
    if (dsa.status === 0) await expect(signingKey(readFileSync(path, 'utf8'), path)).rejects.toMatchObject({ code: 'ERR_SSH_KEY_TYPE' });
  });
});
