import type { Command } from 'commander';
import { UsageError } from '../../../errors.js';
import { fingerprintKeyFile, fingerprintKeyFiles, renderFingerprint, type FileFingerprints, type KeyFingerprint } from '../../../ssh/fingerprint.js';
import { fingerprintMd5, fingerprintSha256, keyTypeName } from '../../../ssh/keys.js';
import { expandPath } from '../../../ssh/store.js';
import { readAll, write } from '../../io.js';
import type { ContextFor } from '../../context.js';

export default function fingerprintCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<file...>', 'key files (.pub, private, *-cert.pub, authorized_keys, known_hosts), or - for stdin')
    .option('--md5', 'MD5 instead of SHA256 (ssh-keygen -E md5)', false)
    .addHelpText('after', `
Each key prints as ssh-keygen -l prints it: bits, fingerprint, comment ("no comment" when none),
type (ED25519, ECDSA-SK, RSA-CERT, …). A certificate gives its certified key's fingerprint. A
private key's public half needs no passphrase, except in an encrypted PEM/PKCS#8 key: keep its .pub
beside it. With several files, one that is not a key is named on stderr and the exit code is 2.

Examples:
  $ keysmith ssh fingerprint ~/.ssh/id_ed25519.pub
  $ keysmith ssh fingerprint ~/.ssh/*.pub
  $ keysmith ssh fingerprint ~/.ssh/id_ed25519 --json   # {bits, fingerprint, comment, type}; several: [{file, …}]`)
    .action(async (files: string[], flags: { md5: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const results: FileFingerprints[] = [];
      // Paths as given (ssh-keygen names PATH.pub as given in a comment), only ~ expanded.
      const paths = files.filter((f) => f !== '-').map((f) => (f.startsWith('~') ? expandPath(f, ctx.env) : f));
      const fromFiles = await fingerprintKeyFiles(paths);
      for (const file of files) {
        if (file !== '-') {
          results.push({ ...fromFiles.shift()!, file });
          continue;
        }
        try {
          results.push({ file, keys: await fingerprintKeyFile('-', (await readAll(ctx.io.stdin)).toString('utf8')) });
        } catch (error) {
          results.push({ file, error: error as Error });
        }
      }
      const failed = results.filter((r) => 'error' in r);
      // One file: its own error and exit code, as before.
      if (files.length === 1 && 'error' in results[0]!) throw results[0].error;
      const rows = results.flatMap((r) => ('keys' in r ? r.keys.map((k) => ({ file: r.file, key: k })) : []));
      const view = (k: KeyFingerprint) => ({ bits: k.bits, fingerprint: flags.md5 ? fingerprintMd5(k.blob) : fingerprintSha256(k.blob), comment: k.comment ?? '', type: keyTypeName(k.algorithm) });
      if (ctx.flags.json) {
        await ctx.json(files.length === 1 && rows.length === 1 ? view(rows[0]!.key) : [...rows.map((r) => ({ file: r.file, ...view(r.key) })), ...failed.map((r) => ({ file: r.file, error: (r as { error: Error }).error.message }))]);
      } else await ctx.out(rows.map((r) => `${renderFingerprint(r.key, flags.md5)}\n`).join(''));
      for (const r of failed) await write(ctx.io.stderr, `keysmith: ${(r as { error: Error }).error.message}\n`);
      if (failed.length) throw new UsageError(`${failed.length} of ${files.length} files hold no key they could read`, undefined, 'ERR_SSH_BAD_KEY');
    });
}
