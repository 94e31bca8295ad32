import type { Command } from 'commander';
import { parseDuration, parseTime } from '../../../duration.js';
import { UsageError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { checkExpiry, overallStatus, parseThreshold, STATUS_CODES, type CheckResult } from '../../../tls/check.js';
import { MAX_PEM_BYTES } from '../../../tls/pem.js';
import { parseEndpoint } from '../../../tls/remote.js';
import { printable, table } from '../../output.js';
import { action, withErrorCodes } from '../../action.js';
import type { ContextFor } from '../../context.js';

interface CheckFlags {
  targetsFile?: string;
  warn: string;
  crit: string;
  concurrency: string;
  timeout: string;
  servername?: string;
  caFile?: string;
  verify: boolean;
  at?: string;
  ocsp: boolean;
  starttls?: string;
}

export default function checkCommand(command: Command, contextFor: ContextFor): Command {
  command
    .argument('[targets...]', 'files, globs, host[:port], https://URL, or smtp:// imap:// pop3:// ldap:// postgres:// … (STARTTLS)')
    .option('--targets-file <file>', 'more targets, one per line (# comments)')
    .option('--warn <threshold>', 'WARNING when less than this is left: 30d, 12h or a share of the lifetime like 20%', '30d')
    .option('--crit <threshold>', 'CRITICAL when less than this is left', '7d')
    .option('--concurrency <n>', 'targets checked at once', '50')
    .option('--timeout <duration>', 'per target: connect and handshake (e.g. 5s)', '5s')
    .option('--servername <name>', 'SNI and host name to check for every host target')
    .option('--ca-file <file>', 'also trust these roots (PEM)')
    .option('--starttls <protocol>', 'speak this protocol before TLS on host:port targets: smtp, imap, pop3, ftp, ldap, postgres, mysql, xmpp')
    .option('--ocsp', 'check revocation: the response the server staples, else the responder in the certificate', false)
    .option('--no-verify', 'expiry only: do not check trust or the host name (reported as null)')
    .option('--at <time>', 'judge expiry and validity at this time instead of now (ISO 8601, e.g. 2027-01-01T00:00:00Z)')
    .addHelpText('after', `
Exit codes (monitoring-plugin convention, unlike the rest of keysmith): 0 all OK, 1 some WARNING,
2 some CRITICAL (expired, not yet valid, untrusted, wrong host, revoked, or under --crit),
3 UNKNOWN (unreachable, timed out, unreadable, or bad usage). With --ocsp, a responder that cannot be
reached or gives no valid answer is a WARNING, never OK. CRITICAL wins over UNKNOWN over WARNING.

Trust is RFC 5280 path validation (signatures, validity of every certificate, basicConstraints,
path length, key usage, name constraints, critical extensions) plus the rules browsers apply to
server certificates (serverAuth EKU, subjectAltName required, RFC 6125 host names). --json names
the broken rule and the certificate: "trustError": {"code": "NAME_CONSTRAINTS", "certificate": 0, …}.

Examples:
  $ keysmith tls check example.com api.example.com:8443 'certs/**/*.pem'
  $ keysmith tls check --targets-file hosts.txt --warn 20% --crit 3d --json
  $ keysmith tls check 10.0.0.5:443 --servername internal.example.test --ca-file corp-ca.pem
  $ keysmith tls check smtp://mail.example.com:587 imaps://mail.example.com postgres://db.example.com
  $ keysmith tls check db.internal:6432 --starttls postgres --ocsp
  $ keysmith tls check self-signed.pem --no-verify --warn 14d
  $ keysmith tls check example.com --at 2027-01-01T00:00:00Z     # still good at the cut-over?`)
    .action(action(async (targets: string[], flags: CheckFlags, command: Command) => {
      const ctx = contextFor(command);
      const warn = parseThreshold(flags.warn, '--warn');
      const crit = parseThreshold(flags.crit, '--crit');
      if ('ms' in warn && 'ms' in crit ? crit.ms > warn.ms : 'percent' in warn && 'percent' in crit && crit.percent > warn.percent) {
        throw new UsageError('--crit must not be longer than --warn');
      }
      const all = [...targets];
      if (flags.targetsFile) {
        const lines = (await readUserFile(flags.targetsFile, { maxBytes: MAX_PEM_BYTES })).toString('utf8').split(/\r?\n/);
        all.push(...lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
      }
      if (all.length === 0) throw new UsageError('name at least one target, or --targets-file');
      const concurrency = Number(flags.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000) throw new UsageError('--concurrency: a whole number from 1 to 1000');
      const at = flags.at === undefined ? undefined : parseTime(flags.at, '--at');
      if (flags.starttls !== undefined) parseEndpoint('localhost', flags.starttls); // an unknown protocol is a usage error before anything runs
      const progress = ctx.io.isTTY.stderr && !ctx.flags.quiet && !ctx.flags.json;
      const results = await checkExpiry(all, {
        warn,
        crit,
        concurrency,
        timeoutMs: parseDuration(/^\d+$/.test(flags.timeout) ? `${flags.timeout}s` : flags.timeout, '--timeout'),
        ...(flags.servername ? { servername: flags.servername } : {}),
        ...(flags.caFile ? { caFile: flags.caFile } : {}),
        verify: flags.verify,
        ocsp: flags.ocsp,
        ...(flags.starttls ? { starttls: flags.starttls } : {}),
        now: at ? () => at : ctx.now,
        ...(progress ? { onProgress: (done: number, total: number) => ctx.io.stderr.write(`\rchecked ${done}/${total}${done === total ? '\n' : ''}`) } : {}),
      }, ctx.env);
      const status = overallStatus(results);
      const summary = { OK: 0, WARNING: 0, CRITICAL: 0, UNKNOWN: 0 };
      for (const r of results) summary[r.status]++;
      if (ctx.flags.json) await ctx.json({ status, summary, results });
      else await ctx.out(render(results));
      await ctx.status(`${status}: ${results.length} checked, ${summary.OK} ok, ${summary.WARNING} warning, ${summary.CRITICAL} critical, ${summary.UNKNOWN} unknown`);
      return { exitCode: STATUS_CODES[status] };
    }));
  // A monitoring plugin: every failure of its own (bad usage, unreadable input) is UNKNOWN, never 2 or 4.
  return withErrorCodes(command, () => STATUS_CODES.UNKNOWN);
}

/** `--at`: an ISO 8601 time (a date alone is midnight UTC). */

function render(results: CheckResult[]): string {
  return table(
    ['STATUS', 'TARGET', 'DAYS', 'EXPIRES', 'DETAIL'],
    results.map((r) => [r.status, printable(r.target), r.daysLeft === null ? '-' : String(r.daysLeft), r.notAfter ?? '-', printable(r.message)]),
  );
}
