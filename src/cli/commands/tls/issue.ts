import { type Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { NotFoundError } from '../../../errors.js';
import { creatingFiles, refuseExisting } from '../../../fs.js';
import { createCa, loadCa, parseDays, type CertificateAuthority } from '../../../tls/ca.js';
import { issueCertificate, recordIssued } from '../../../tls/issue.js';
import { toPkcs12 } from '../../../tls/p12.js';
import { keyAlgorithm } from '../../../tls/keys.js';
import { fileStem, parseSan } from '../../../tls/names.js';
import type { Vault } from '../../../vault/types.js';
import type { Context, ContextFor } from '../../context.js';
import { p12Password } from './password.js';

export const KEY_TYPES = ['ec:p256', 'ec:p384', 'rsa:2048', 'rsa:3072', 'rsa:4096', 'ed25519'];

interface IssueFlags {
  ca?: string;
  days: string;
  client: boolean;
  key: string;
  outDir: string;
  force: boolean;
  p12: boolean;
  p12PasswordStdin: boolean;
}

/** The named CA; without --ca, the `dev` CA, created on first use as mkcert does. */
export async function caFor(ctx: Context, vault: Vault, name: string | undefined): Promise<CertificateAuthority> {
  try {
    return await loadCa(vault, name ?? 'dev');
  } catch (err) {
    if (name !== undefined || !(err instanceof NotFoundError)) throw err;
    const ca = await createCa(vault, 'dev', { now: ctx.now() });
    await ctx.status(`created a local CA named dev (trust it with: keysmith tls ca export dev)`);
    return ca;
  }
}

export default function issueCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<names...>', "names, e.g. example.test '*.example.test' 127.0.0.1 ::1 me@example.test")
    .option('--ca <name>', 'CA to sign with (default: dev, created on first use)')
    .option('--days <n>', 'lifetime in days', '397')
    .option('--client', 'also for client authentication (mutual TLS)', false)
    .addOption(new Option('--key <type>', 'key type').choices(KEY_TYPES).default('ec:p256'))
    .option('--out-dir <dir>', 'where to write NAME.pem and NAME-key.pem', '.')
    .option('--p12', 'also write NAME.p12 (key, certificate and CA; AES-256, read by OpenSSL 3 and Windows)', false)
    .option('--p12-password-stdin', 'read the PKCS#12 password from stdin instead of a prompt', false)
    .option('-f, --force', 'replace existing files', false)
    .addHelpText('after', `
Writes NAME.pem (certificate) and NAME-key.pem (key, mode 0600), named like mkcert, and keeps
both in the vault as tls/cert/NAME for keysmith tls export.

Examples:
  $ keysmith tls issue example.test '*.example.test' localhost 127.0.0.1 ::1
  $ keysmith tls issue api.example.test --ca corp --key rsa:3072 --out-dir certs
  $ keysmith tls issue me@example.test --client --json   # {certificate, key, p12?, ca, names, notAfter}
  $ printf %s "$P12_PASSWORD" | keysmith tls issue app.example.test --p12 --p12-password-stdin`)
    .action(async (names: string[], flags: IssueFlags, command: Command) => {
      const ctx = contextFor(command);
      const days = parseDays(flags.days);
      // Every input is checked before anything is made: a bad name must not leave a new dev CA behind.
      for (const name of names) parseSan(name);
      if (flags.key) keyAlgorithm(flags.key);
      const stem = fileStem(names);
      const certPath = join(flags.outDir, `${stem}.pem`);
      const keyPath = join(flags.outDir, `${stem}-key.pem`);
      const p12Path = flags.p12 ? join(flags.outDir, `${stem}.p12`) : undefined;
      await refuseExisting([certPath, keyPath, ...(p12Path ? [p12Path] : [])], flags.force);
      const password = p12Path ? await p12Password(ctx, flags.p12PasswordStdin, '--p12-password-stdin', true) : undefined;
      // The folder first: one that cannot be made fails before a CA is made or anything recorded.
      // The vault record last: if a file cannot be written, the others go again and nothing is recorded.
      const { ca, issued } = await creatingFiles(async (files) => {
        await files.mkdir(flags.outDir);
        const { vault } = await ctx.openVault();
        const ca = await caFor(ctx, vault, flags.ca);
        const issued = await issueCertificate(ca, names, { key: flags.key, days, client: flags.client, now: ctx.now() });
        await files.write(keyPath, issued.keyPem!, { overwrite: flags.force });
        await files.write(certPath, issued.certificatePem, { mode: 0o644, overwrite: flags.force });
        if (p12Path) await files.write(p12Path, await toPkcs12(issued.keyPem!, [issued.certificatePem, ca.certificatePem], password!, names[0]), { overwrite: flags.force });
        await recordIssued(vault, stem, ca, issued, ctx.now(), { files: { certificate: resolve(certPath), key: resolve(keyPath) }, key: flags.key, days, client: flags.client });
        return { ca, issued };
      });
      if (ctx.flags.json) return ctx.json({ certificate: certPath, key: keyPath, ...(p12Path ? { p12: p12Path } : {}), ca: ca.name, names: issued.names, notAfter: issued.notAfter.toISOString() });
      await ctx.status(`issued ${[certPath, keyPath, p12Path].filter(Boolean).join(', ')} (CA ${ca.name}, valid until ${issued.notAfter.toISOString()})`);
    });
}
