import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { certificateInfo, readCertificateLines, renderCertificate, type CertificateInfo } from '../../../ssh/certificates.js';
import { fingerprintMd5, keyTypeName, parsePublicKeyLine, randomArt, type PublicKey } from '../../../ssh/keys.js';
import { expandPath, loadKey } from '../../../ssh/store.js';
import { readAll, write } from '../../io.js';
import type { Context, ContextFor } from '../../context.js';
import { ageDays } from './common.js';

/** A certificate file rather than a key name: a path (a / or ~), a .pub file, or - for stdin. */
const isFile = (arg: string) => arg === '-' || arg.includes('/') || arg.startsWith('~') || arg.endsWith('.pub');

interface Shown {
  file: string;
  line: number;
  key: PublicKey;
  /** ssh-keygen -L's text for it, header included; latin1 (the certificate's bytes). */
  text: string;
}

/**
 * The certificates in a file's text, as ssh-keygen -L shows them: `PATH:` before the first line's,
 * `PATH:N:` before the others (and all of stdin's, named "(stdin)"). Lines that are not
 * certificates come back as errors, worded as ssh-keygen words them.
 */
function showCertificates(file: string, text: string, md5: boolean): { shown: Shown[]; errors: string[] } {
  const name = file === '-' ? '(stdin)' : file;
  const shown: Shown[] = [];
  const errors: string[] = [];
  for (const got of readCertificateLines(text)) {
    if ('error' in got) {
      errors.push(`${name}:${got.line}${got.error === 'is not a certificate' ? ' is not a certificate' : `: ${got.error}`}`);
      continue;
    }
    try {
      const header = file !== '-' && got.line === 1 ? `${name}:` : `${name}:${got.line}:`;
      shown.push({ file: name, line: got.line, key: got.key, text: `${header}\n${renderCertificate(got.key, md5)}` });
    } catch (err) {
      errors.push(`${name}:${got.line}: ${(err as Error).message}`);
    }
  }
  return { shown, errors };
}

const infoOf = (s: Shown, now: Date): CertificateInfo & { file: string; line: number } => ({ file: s.file, line: s.line, ...certificateInfo(s.key, now) });

async function showFile(ctx: Context, file: string, md5: boolean): Promise<void> {
  const path = file.startsWith('~') ? expandPath(file, ctx.env) : file;
  const text = (file === '-' ? await readAll(ctx.io.stdin) : await readUserFile(path, { maxBytes: 16 * 1024 * 1024 })).toString('latin1');
  const { shown, errors } = showCertificates(file, text, md5);
  if (shown.length === 0) {
    const why = errors.length ? errors.join('; ') : `${file}: no certificate in it`;
    throw new UsageError(why, { hint: `a certificate is a *-cert.pub file; a key's fingerprint: keysmith ssh fingerprint ${file}` }, 'ERR_SSH_NOT_A_CERTIFICATE');
  }
  if (ctx.flags.json) await ctx.json(shown.length === 1 ? infoOf(shown[0]!, ctx.now()) : shown.map((s) => infoOf(s, ctx.now())));
  else await ctx.out(Buffer.from(shown.map((s) => s.text).join(''), 'latin1'));
  for (const e of errors) await write(ctx.io.stderr, `keysmith: ${e}\n`);
}

export default function showCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name, or a certificate file (a path with a /, a .pub file, or - for stdin)')
    .option('--md5', 'also the MD5 fingerprint (for a certificate: MD5 fingerprints, as ssh-keygen -L -E md5)', false)
    .addHelpText('after', `
A key name shows the managed key, and its certificate when KEY-cert.pub is beside the key. A
certificate file is shown exactly as ssh-keygen -L shows it (times in local time); with --json:
{file, line, type, algorithm, publicKey: {fingerprint, type, bits}, signingCa: {fingerprint, type,
signatureAlgorithm}, keyId, serial (a string: 64 bits), validAfter, validBefore (ISO-8601 UTC, null for
always / forever), valid (ssh-keygen's words), status (valid, expired, not-yet-valid), principals,
criticalOptions and extensions ({name: true for a flag, the value, or {hex}}), comment}; an array when
the file holds several certificates.

Examples:
  $ keysmith ssh show work
  $ keysmith ssh show work --json | jq -r .publicKey >> authorized_keys
  $ keysmith ssh show ~/.ssh/work-cert.pub
  $ keysmith ssh show ~/.ssh/work-cert.pub --json | jq -r .validBefore`)
    .action(async (name: string, flags: { md5: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (isFile(name)) return showFile(ctx, name, flags.md5);
      const { vault } = await ctx.openVault();
      const k = await loadKey(vault, name);
      const pub = parsePublicKeyLine(k.publicKey, name);
      const certPath = `${k.path}-cert.pub`;
      const certText = await readFile(certPath, 'latin1').catch(() => undefined);
      let certificate: { shown?: Shown; error?: string } | undefined;
      if (certText !== undefined) {
        const { shown, errors } = showCertificates(certPath, certText, false);
        const mine = shown.find((s) => s.key.blob.equals(pub.blob));
        certificate = mine ? { shown: mine } : { error: shown.length ? `${certPath}: certifies another key` : (errors[0] ?? `${certPath}: no certificate in it`) };
      }
      const info = {
        name, publicKey: k.publicKey, type: keyTypeName(k.algorithm), bits: k.bits, fingerprint: k.fingerprint,
        ...(flags.md5 ? { md5: fingerprintMd5(pub.blob) } : {}),
        path: k.path, created: k.created, hosts: k.hosts, passphraseStored: k.passphrase !== undefined,
        ...(certificate?.shown ? { certificate: infoOf(certificate.shown, ctx.now()) } : {}),
        ...(certificate?.error ? { certificateError: certificate.error } : {}),
      };
      if (ctx.flags.json) return ctx.json(info);
      await ctx.out(`${k.publicKey}\n${k.bits} ${k.fingerprint} ${k.comment || 'no comment'} (${info.type})\n${flags.md5 ? `${info.md5}\n` : ''}${randomArt(pub)}\n` +
        `path:  ${k.path}\ncreated: ${k.created} (${ageDays(k.created, ctx.now())} days ago)\nhosts: ${k.hosts.map((h) => h.target).join(', ') || '-'}\n`);
      if (certificate?.shown) await ctx.out(Buffer.from(`\n${certificate.shown.text}`, 'latin1'));
      else if (certificate?.error) await ctx.out(`\ncertificate: ${certificate.error}\n`);
    });
}
