import { type Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { NotFoundError } from '../../../errors.js';
import { creatingFiles, refuseExisting } from '../../../fs.js';
import { createCa, loadCa, parseDays, type CertificateAuthority } from '../../../tls/ca.js';
import { certRecordName, issueCertificate, recordIssued, type IssuedCertificate, type IssueParameters } from '../../../tls/issue.js';
import { findSecret } from '../../../vault/secrets.js';
import { DEFAULT_DIRECTORY, type Challenge } from '../../../tls/acme.js';
import { UsageError } from '../../../errors.js';
import { toPkcs12 } from '../../../tls/p12.js';
import { keyAlgorithm } from '../../../tls/keys.js';
import { fileStem, parseSan } from '../../../tls/names.js';
import type { Vault } from '../../../vault/types.js';
import type { Context, ContextFor } from '../../context.js';
import { p12Password } from './password.js';

export const KEY_TYPES = ['ec:p256', 'ec:p384', 'rsa:2048', 'rsa:3072', 'rsa:4096', 'ed25519'];

interface IssueFlags {
  ca?: string;
  acme: boolean;
  directory?: string;
  http01: boolean;
  webroot?: string;
  listen?: string;
  dns01: boolean;
  dnsHook?: string;
  tlsAlpn01: boolean;
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
    .option('--acme', 'from an ACME CA (tls acme register first) instead of a local CA', false)
    .option('--directory <url>', "--acme: the CA's directory (default: KEYSMITH_ACME_DIRECTORY, else Let's Encrypt)")
    .option('--http-01', '--acme: answer http-01, from --listen (default :80) or --webroot', false)
    .option('--webroot <dir>', '--http-01: write the answer under DIR/.well-known/acme-challenge/ for a running web server')
    .option('--listen <[host]:port>', '--http-01 / --tls-alpn-01: answer from a one-shot listener here')
    .option('--dns-01', '--acme: answer dns-01 through --dns-hook', false)
    .option('--dns-hook <command>', "--dns-01: run 'COMMAND present|cleanup FQDN VALUE' to set and remove the TXT record")
    .option('--tls-alpn-01', '--acme: answer tls-alpn-01 (RFC 8737) from --listen (default :443)', false)
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
  $ printf %s "$P12_PASSWORD" | keysmith tls issue app.example.test --p12 --p12-password-stdin
  $ keysmith tls issue www.example.com --acme --http-01 --webroot /var/www/html
  $ keysmith tls issue '*.example.com' --acme --dns-01 --dns-hook ./dns-hook.sh`)
    .action(async (names: string[], flags: IssueFlags, command: Command) => {
      const ctx = contextFor(command);
      const days = parseDays(flags.days);
      const acme = flags.acme ? acmeSettings(ctx, flags, command) : undefined;
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
      const { issuer, issued } = await creatingFiles(async (files) => {
        await files.mkdir(flags.outDir);
        const { vault } = await ctx.openVault();
        const files_ = { certificate: resolve(certPath), key: resolve(keyPath) };
        // One record a name: the vault now follows this file, and says so (the other is renewed no more).
        const kept = ((await findSecret(vault, certRecordName(stem)))?.meta as { files?: { certificate?: string } } | undefined)?.files?.certificate;
        if (kept && kept !== files_.certificate) await ctx.status(`${stem} was kept for ${kept}: keysmith now keeps (and renews) ${files_.certificate} instead`);
        let issuer: { name: string; chain: string[] };
        let issued: IssuedCertificate;
        let parameters: IssueParameters;
        if (acme) {
          const { issueAcme } = await import('../../../tls/acme.js');
          const got = await issueAcme(vault, names, { ...acme, key: flags.key, env: ctx.env, tell: (line) => void ctx.status(line) });
          [issuer, issued, parameters] = [{ name: 'acme', chain: got.chain }, got, { files: files_, key: flags.key, acme }];
        } else {
          const ca = await caFor(ctx, vault, flags.ca);
          [issuer, issued, parameters] = [{ name: ca.name, chain: [ca.certificatePem] }, await issueCertificate(ca, names, { key: flags.key, days, client: flags.client, now: ctx.now() }), { files: files_, key: flags.key, days, client: flags.client }];
        }
        await files.write(keyPath, issued.keyPem!, { overwrite: flags.force });
        // An ACME certificate is served with its intermediates: the file holds the full chain (certbot's fullchain.pem).
        await files.write(certPath, acme ? [issued.certificatePem, ...issuer.chain].join('') : issued.certificatePem, { mode: 0o644, overwrite: flags.force });
        if (p12Path) await files.write(p12Path, await toPkcs12(issued.keyPem!, [issued.certificatePem, ...issuer.chain], password!, names[0]), { overwrite: flags.force });
        await recordIssued(vault, stem, issuer, issued, ctx.now(), parameters);
        return { issuer, issued };
      });
      const caName = acme ? acme.directory : issuer.name;
      if (ctx.flags.json) return ctx.json({ certificate: certPath, key: keyPath, ...(p12Path ? { p12: p12Path } : {}), ca: caName, names: issued.names, notAfter: issued.notAfter.toISOString() });
      await ctx.status(`issued ${[certPath, keyPath, p12Path].filter(Boolean).join(', ')} (CA ${caName}, valid until ${issued.notAfter.toISOString()})`);
    });
}

/** The ACME directory: --directory, else KEYSMITH_ACME_DIRECTORY, else Let's Encrypt. */
export function acmeDirectory(env: NodeJS.ProcessEnv, flag: string | undefined): string {
  const directory = flag ?? env.KEYSMITH_ACME_DIRECTORY ?? DEFAULT_DIRECTORY;
  let url: URL;
  try {
    url = new URL(directory);
  } catch {
    throw new UsageError(`--directory: not a URL: ${JSON.stringify(directory.slice(0, 100))}`, undefined, 'ERR_ACME_NOT_A_DIRECTORY');
  }
  if (url.protocol !== 'https:') throw new UsageError(`--directory: an ACME directory is served over https (RFC 8555 §6.1), not ${url.protocol}`, undefined, 'ERR_ACME_NOT_A_DIRECTORY');
  return url.href;
}

/** --acme: the directory and the one challenge to answer, checked before anything is made. */
function acmeSettings(ctx: Context, flags: IssueFlags, command: Command): { directory: string; challenge: Challenge } {
  const set = (name: string) => command.getOptionValueSource(name) === 'cli';
  const local = ['ca', 'days', 'client'].filter(set);
  if (local.length) throw new UsageError(`--acme: ${local.map((o) => `--${o}`).join(', ')} belong to a local CA (the ACME CA decides lifetime and usages)`);
  const chosen = [flags.http01 && 'http-01', flags.dns01 && 'dns-01', flags.tlsAlpn01 && 'tls-alpn-01'].filter(Boolean);
  if (chosen.length !== 1) throw new UsageError('--acme: choose one challenge: --http-01, --dns-01 or --tls-alpn-01');
  const directory = acmeDirectory(ctx.env, flags.directory);
  if (flags.http01) {
    if (flags.webroot && flags.listen) throw new UsageError('--http-01: --webroot or --listen, not both');
    return { directory, challenge: flags.webroot ? { type: 'http-01', webroot: resolve(flags.webroot) } : { type: 'http-01', listen: flags.listen ?? ':80' } };
  }
  if (flags.webroot) throw new UsageError('--webroot goes with --http-01');
  if (flags.dns01) {
    if (!flags.dnsHook) throw new UsageError('--dns-01 needs --dns-hook COMMAND (called as COMMAND present|cleanup FQDN VALUE)');
    if (flags.listen) throw new UsageError('--listen goes with --http-01 or --tls-alpn-01');
    return { directory, challenge: { type: 'dns-01', hook: flags.dnsHook.includes('/') ? resolve(flags.dnsHook) : flags.dnsHook } };
  }
  return { directory, challenge: { type: 'tls-alpn-01', listen: flags.listen ?? ':443' } };
}
