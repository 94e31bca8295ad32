import type { Command } from 'commander';
import { join } from 'node:path';
import { UsageError } from '../../../errors.js';
import { fix, type FixResult } from '../../../helpers/scan/fix.js';
import type { Finding } from '../../../helpers/scan/formats.js';
import { scan } from '../../../helpers/scan/scan.js';
import { printable, table } from '../../output.js';
import { action } from '../../action.js';
import type { Context, ContextFor } from '../../context.js';

export default function scanCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[paths...]', 'files and folders to look through (default: your home folder)')
    .option('--fix', 'move each credential into the vault and rewire its tool to ask keysmith; asks first (backups 0600)', false)
    .option('-y, --yes', 'with --fix: fix everything fixable without asking', false)
    .addHelpText('after', `
Knows: ~/.git-credentials, ~/.netrc, docker and containers auth files, ~/.aws/credentials,
kubeconfig tokens, client keys and passwords, ~/.npmrc, ~/.pypirc, ~/.pgpass, gh's hosts.yml,
unencrypted SSH private keys, and private keys others can read. Values are never shown: only
their length and the first 8 hex digits of their SHA-256.

Exit status: 0 nothing found (or everything fixed), 1 something left, 2 bad usage.

Examples:
  $ keysmith scan
  $ keysmith scan ~/work --json      # [{kind, file, line, target, length, sha256, advice, fixable}]
  $ keysmith scan --fix              # asks before each change
  $ keysmith scan --fix --yes`)
    .action(action(async (paths: string[], flags: { fix: boolean; yes: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (flags.yes && !flags.fix) throw new UsageError('--yes goes with --fix');
      if (flags.fix && !flags.yes && !ctx.canPrompt()) throw new UsageError('scan --fix asks before each change: run it at a terminal, or add --yes', undefined, 'ERR_NO_INPUT');
      const home = ctx.env.HOME;
      if (paths.length === 0 && !home) throw new UsageError('HOME is not set: name the folders to scan');
      const errors: string[] = [];
      const roots = paths.length > 0 ? paths : [home!];
      let missingRoots = 0;
      const findings = scan(roots, {
        exclude: [ctx.paths.data, ctx.paths.config],
        // A file gone between listing and reading is no news; a path given that is not there is.
        onError: (path, reason, root) => {
          if (root) missingRoots++;
          if (root || reason !== 'ENOENT') errors.push(`cannot read ${show(ctx, path)}: ${reason}`);
        },
      });
      for (const e of errors) await ctx.status(e);
      if (missingRoots === roots.length) throw new UsageError(`nothing to scan: ${roots.length === 1 ? 'the path given cannot' : 'none of the paths given can'} be read`);
      if (!flags.fix) {
        if (ctx.flags.json) await ctx.json(findings);
        else if (findings.length > 0) await ctx.out(renderFindings(ctx, findings));
        await ctx.status(findings.length === 0 ? 'no plaintext credentials found' : `${findings.length} found${findings.some((f) => f.fixable) ? '; keysmith scan --fix moves the fixable ones into the vault' : ''}`);
        return { exitCode: findings.length > 0 ? 1 : 0 };
      }
      const { vault } = await ctx.openVault();
      const backupDir = join(ctx.paths.data, 'scan-backups', ctx.now().toISOString().replace(/[:.]/g, '-'));
      const results = await fix(findings, {
        vault, now: ctx.now(), env: ctx.env, backupDir,
        accept: (f) => (flags.yes ? Promise.resolve(true) : ctx.prompter.confirm(`${f.kind} ${printable(f.target)} in ${show(ctx, f.file)}${f.line ? `:${f.line}` : ''}: ${f.kind === 'private-key-mode' ? 'chmod 600' : 'move it into keysmith and rewire the tool'}?`)),
      });
      const changed = results.some((r) => r.outcome === 'fixed' && r.kind !== 'private-key-mode');
      if (ctx.flags.json) await ctx.json({ results, backups: changed ? backupDir : null });
      else if (results.length > 0) await ctx.out(renderResults(ctx, results));
      if (changed) await ctx.status(`backups of the changed files in ${backupDir} (0600): they hold the plaintext; delete them once all works`);
      return { exitCode: results.some((r) => r.outcome !== 'fixed') ? 1 : 0 };
    }));
}

/** A path for people: under HOME as ~/… */
const show = (ctx: Context, path: string) => {
  const home = ctx.env.HOME;
  return printable(home && path.startsWith(`${home}/`) ? `~/${path.slice(home.length + 1)}` : path);
};

function renderFindings(ctx: Context, findings: Finding[]): string {
  return table(['KIND', 'WHERE', 'WHAT', 'DO'], findings.map((f) => [
    f.kind,
    `${show(ctx, f.file)}${f.line ? `:${f.line}` : ''}`,
    `${printable(f.target)}${f.length !== undefined ? `, ${f.length} chars${f.sha256 ? `, sha256 ${f.sha256}` : ''}` : ''}${f.mode ? `, mode ${f.mode}` : ''}`,
    printable(f.advice),
  ]));
}

function renderResults(ctx: Context, results: FixResult[]): string {
  return table(['RESULT', 'KIND', 'WHERE', 'WHAT', 'DETAIL'], results.map((r) => [r.outcome, r.kind, `${show(ctx, r.file)}${r.line ? `:${r.line}` : ''}`, printable(r.target), printable(r.detail)]));
}
