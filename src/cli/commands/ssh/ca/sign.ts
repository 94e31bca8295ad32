import { type Command } from 'commander';
import { UsageError } from '../../../../errors.js';
import { signWithCa } from '../../../../ssh/ca.js';
import { certificateInfo, checkSourceAddress, DEFAULT_USER_EXTENSIONS, formatValidity, MAX_PRINCIPALS, parseValidity, type CertificateOption } from '../../../../ssh/certificates.js';
import { expandPath } from '../../../../ssh/store.js';
import { repeatable } from '../../../options.js';
import { printable } from '../../../output.js';
import type { ContextFor } from '../../../context.js';
import { withCaHint, withFlag } from './common.js';

interface SignFlags {
  principals?: string;
  anyPrincipal: boolean;
  id?: string;
  valid?: string;
  serial?: string;
  host: boolean;
  forceCommand?: string;
  sourceAddress?: string;
  x11Forwarding: boolean;
  agentForwarding: boolean;
  portForwarding: boolean;
  pty: boolean;
  userRc: boolean;
  extensions: boolean;
  extension: string[];
  critical: string[];
  out?: string;
  force: boolean;
}

/** The --no-… flags and the default extension each removes. */
const NO_FLAGS: Array<[keyof SignFlags, string, string]> = [
  ['x11Forwarding', '--no-x11-forwarding', 'permit-X11-forwarding'],
  ['agentForwarding', '--no-agent-forwarding', 'permit-agent-forwarding'],
  ['portForwarding', '--no-port-forwarding', 'permit-port-forwarding'],
  ['pty', '--no-pty', 'permit-pty'],
  ['userRc', '--no-user-rc', 'permit-user-rc'],
];

/** `name` or `name=value`, as ssh-keygen's -O extension:… and critical:… take them. */
function nameValue(text: string, flag: string): CertificateOption {
  const eq = text.indexOf('=');
  const o = eq < 0 ? { name: text } : { name: text.slice(0, eq), value: text.slice(eq + 1) };
  if (o.name === '') throw new UsageError(`${flag}: a name is needed (NAME or NAME=VALUE)`, undefined, 'ERR_SSH_BAD_CERT_OPTION');
  return o;
}

/** ssh-keygen -n: a comma-separated list, no empty name. */
function principalList(text: string): string[] {
  const list = text.split(',');
  if (list.some((p) => p === '')) throw new UsageError(`--principals: an empty principal name in ${JSON.stringify(text)}`, undefined, 'ERR_SSH_BAD_PRINCIPAL');
  if (list.length > MAX_PRINCIPALS) throw new UsageError(`--principals: at most ${MAX_PRINCIPALS}`, undefined, 'ERR_SSH_BAD_PRINCIPAL');
  return list;
}

function serialOf(text: string): bigint {
  if (!/^\d+$/.test(text) || BigInt(text) > 0xffff_ffff_ffff_ffffn) throw new UsageError(`--serial: ${JSON.stringify(text)} is not a whole number from 0 to 18446744073709551615`, undefined, 'ERR_SSH_BAD_SERIAL');
  return BigInt(text);
}

/** The critical options and extensions the flags ask for (user certificates). */
function userOptions(flags: SignFlags): { criticalOptions: CertificateOption[]; extensions: CertificateOption[] } {
  const criticalOptions: CertificateOption[] = [];
  if (flags.forceCommand !== undefined) {
    if (flags.forceCommand === '') throw new UsageError('--force-command: an empty command', undefined, 'ERR_SSH_BAD_CERT_OPTION');
    criticalOptions.push({ name: 'force-command', value: flags.forceCommand });
  }
  if (flags.sourceAddress !== undefined) {
    withFlag('--source-address', () => checkSourceAddress(flags.sourceAddress!));
    criticalOptions.push({ name: 'source-address', value: flags.sourceAddress });
  }
  for (const text of flags.critical) {
    const o = nameValue(text, '--critical');
    if (criticalOptions.some((c) => c.name === o.name)) throw new UsageError(`--critical: ${o.name} is given twice`, undefined, 'ERR_SSH_BAD_CERT_OPTION');
    if (o.name === 'source-address') withFlag('--critical source-address', () => checkSourceAddress(o.value ?? ''));
    criticalOptions.push(o);
  }
  const removed = new Set(NO_FLAGS.filter(([key]) => flags[key] === false).map(([, , name]) => name));
  const extensions: CertificateOption[] = flags.extensions ? DEFAULT_USER_EXTENSIONS.filter((e) => !removed.has(e)).map((name) => ({ name })) : [];
  for (const text of flags.extension) {
    const o = nameValue(text, '--extension');
    const there = extensions.find((e) => e.name === o.name);
    if (there && there.value === o.value) continue;
    if (there) throw new UsageError(`--extension: ${o.name} is given twice`, undefined, 'ERR_SSH_BAD_CERT_OPTION');
    extensions.push(o);
  }
  return { criticalOptions, extensions };
}

export default function caSignCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<ca>', 'the CA, by name (keysmith ssh ca list)')
    .argument('<public-key>', "the public key to certify, e.g. ~/.ssh/work.pub (a private key's path reads PATH.pub)")
    .option('-n, --principals <list>', 'user names (user certificate) or host names (--host), comma-separated')
    .option('--any-principal', "no principals: valid for every user or host (ssh-keygen's default without -n)", false)
    .option('-I, --id <key-id>', 'key id, logged by sshd at each login (default: the first principal, else the key\'s comment)')
    .option('--valid <spec>', 'validity, as ssh-keygen -V: 8h, +1d, -5m:+1h, 20260101:20260201, 20260101Z:forever (default: 16h for users, 30d for hosts)')
    .option('-z, --serial <n>', 'serial number, 0 to 2^64-1 (default: random, from 1 to 2^63-1)')
    .option('--host', 'a host certificate (default: a user certificate)', false)
    .option('--force-command <command>', 'critical option: run this command whatever the client asks')
    .option('--source-address <cidr-list>', 'critical option: accept the certificate only from these addresses, e.g. 10.0.0.0/8,192.0.2.7')
    .option('--no-x11-forwarding', 'leave out the extension permit-X11-forwarding')
    .option('--no-agent-forwarding', 'leave out the extension permit-agent-forwarding')
    .option('--no-port-forwarding', 'leave out the extension permit-port-forwarding')
    .option('--no-pty', 'leave out the extension permit-pty')
    .option('--no-user-rc', 'leave out the extension permit-user-rc')
    .option('--no-extensions', 'no default extensions at all (ssh-keygen -O clear)')
    .addOption(repeatable('--extension <name[=value]>', 'add an extension, e.g. no-touch-required or login@example.com=alice (repeatable)'))
    .addOption(repeatable('--critical <name[=value]>', 'add a critical option, e.g. verify-required (repeatable)'))
    .option('-o, --out <path>', 'where to write the certificate (default: the key path less .pub, plus -cert.pub); - for stdout')
    .option('-f, --force', 'replace an existing file that is not a certificate of this key by this CA', false)
    .addHelpText('after', `
What ssh-keygen -s -I ID -n PRINCIPALS -V VALIDITY -z SERIAL [-h] [-O …] KEY.pub does, with the CA's key
from the vault. The certificate is checked (parsed back, its signature verified) before it is
written, mode 0644, to KEY-cert.pub, where ssh finds it beside KEY. Its path is printed on stdout.

Defaults that differ from ssh-keygen's, on purpose:
  - principals are required: a certificate without any is valid for every user (or host); say so
    with --any-principal.
  - validity: 16 hours for a user certificate, 30 days for a host certificate (as step-ca), from a
    minute ago (backdated as ssh-keygen backdates +TIME), rather than forever.
  - serial: random (1 to 2^63-1) rather than 0, so that one certificate can be revoked by its serial
    in a KRL (ssh-keygen -k -z) and logs tell certificates apart; --serial sets it.
  - an existing KEY-cert.pub is replaced only when it is a certificate of the same key by the same
    CA (a renewal); anything else there needs --force.
  - a bare duration such as 8h means +8h. RSA keys below 2048 bits and DSA keys are not certified.

User certificates get ssh-keygen's default extensions (permit-X11-forwarding,
permit-agent-forwarding, permit-port-forwarding, permit-pty, permit-user-rc) less those a --no-…
flag removes; host certificates have none, and take no critical options.

--valid FROM:TO takes, for each side, a relative time (-5m, +1h, +1w2d), a date YYYYMMDD[HHMM[SS]]
in local time or with a Z suffix in UTC, 0x… seconds since 1970, or always (FROM) and forever (TO).
Local dates are read as standard time, as ssh-keygen reads them: in summer, 20260701 is 01:00
where clocks move forward an hour (write 20260701Z for UTC).

Examples:
  $ keysmith ssh ca sign users ~/.ssh/work.pub --principals alice,deploy --valid 8h
  $ keysmith ssh ca sign users bot.pub -n deploy --id ci-bot --force-command /usr/local/bin/deploy \\
      --source-address 10.0.0.0/8 --no-pty --no-port-forwarding --valid 20260101:20260201
  $ keysmith ssh ca sign hosts /etc/ssh/ssh_host_ed25519_key.pub --host -n web1.example.com,web1
  $ keysmith ssh ca sign users work.pub -n alice --json   # {path, ca, line, renewed, type, keyId, serial, principals, validAfter, validBefore, …}`)
    .action(async (caName: string, file: string, flags: SignFlags, command: Command) => {
      const ctx = contextFor(command);
      const type = flags.host ? 'host' : 'user';
      if (flags.principals === undefined && !flags.anyPrincipal) {
        throw new UsageError(`--principals is required: the ${type === 'user' ? 'user names' : 'host names'} the certificate is valid for (or --any-principal for every one)`, undefined, 'ERR_SSH_BAD_PRINCIPAL');
      }
      if (flags.principals !== undefined && flags.anyPrincipal) throw new UsageError('--principals and --any-principal exclude each other', undefined, 'ERR_USAGE');
      const principals = flags.principals === undefined ? [] : principalList(flags.principals);
      if (flags.host) {
        const userOnly = [
          ...(flags.forceCommand !== undefined ? ['--force-command'] : []),
          ...(flags.sourceAddress !== undefined ? ['--source-address'] : []),
          ...NO_FLAGS.filter(([key]) => flags[key] === false).map(([, flag]) => flag),
          ...(flags.extensions ? [] : ['--no-extensions']),
          ...(flags.extension.length ? ['--extension'] : []),
          ...(flags.critical.length ? ['--critical'] : []),
        ];
        if (userOnly.length) throw new UsageError(`${userOnly.join(', ')}: host certificates carry no critical options or extensions`, undefined, 'ERR_SSH_BAD_CERT_OPTION');
      }
      const options = flags.host ? { criticalOptions: [], extensions: [] } : userOptions(flags);
      const validity = flags.valid === undefined ? {} : withFlag('--valid', () => parseValidity(flags.valid!, ctx.now()));
      const serial = flags.serial === undefined ? {} : { serial: serialOf(flags.serial) };
      const path = file.startsWith('~') ? expandPath(file, ctx.env) : file;
      const toStdout = flags.out === '-';
      const out = flags.out === undefined ? undefined : toStdout ? null : flags.out.startsWith('~') ? expandPath(flags.out, ctx.env) : flags.out;
      const result = await withCaHint(caName, () =>
        signWithCa(async () => (await ctx.openVault()).vault, {
          ca: caName, publicKeyPath: path, ...(out !== undefined ? { out } : {}), force: flags.force,
          type, principals, ...(flags.id !== undefined ? { keyId: flags.id } : {}), ...validity, ...serial, ...options, now: ctx.now(),
        }));
      const cert = result.key.certificate!;
      if (ctx.flags.json) return ctx.json({ path: result.path ?? null, ca: caName, line: result.line, renewed: result.renewed, ...certificateInfo(result.key, ctx.now()) });
      await ctx.out(toStdout ? `${result.line}\n` : `${result.path}\n`);
      const forWhom = principals.length ? ` for ${principals.join(',')}` : ' for any principal';
      await ctx.status(`Signed ${type} key ${result.path ?? '(stdout)'}: id "${printable(Buffer.from(cert.keyId, 'latin1').toString('utf8'))}" serial ${cert.serial}${forWhom} valid ${formatValidity(cert)}${result.renewed ? ' (renewed)' : ''}`);
    });
}
