import type { Command } from 'commander';
import { parseDuration } from '../../../duration.js';
import { rotateKey, type RotateResult } from '../../../ssh/rotate.js';
import { EXIT_CODES } from '../../exit-codes.js';
import { table } from '../../output.js';
import { action } from '../../action.js';
import type { ContextFor } from '../../context.js';
import { connectOptions, positiveInt } from './common.js';

interface RotateFlags {
  hosts?: string;
  olderThan?: string;
  dryRun: boolean;
  concurrency: string;
  resume: boolean;
  passphraseStdin: boolean;
  acceptNew: boolean;
  knownHosts?: string;
}

export default function rotateCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'key name')
    .option('--hosts <list>', 'only these hosts (comma-separated user@host[:port])')
    .option('--older-than <age>', 'only when the key is older than this (e.g. 90d), for scheduled jobs')
    .option('--dry-run', 'show the plan, change nothing', false)
    .option('--concurrency <n>', 'hosts at once', '8')
    .option('--resume', 'finish an interrupted rotation', false)
    .option('--passphrase-stdin', "read the key's passphrase from stdin (when the vault does not keep it)", false)
    .option('--accept-new', 'record unknown host keys in known_hosts', false)
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .addHelpText('after', `
Per host: log in with the old key, append the new key, log in afresh with the new key, then remove
the old key by its key blob (every other line kept byte for byte). The new key takes the key's path;
the old one waits (0600) as PATH.old-<time> until every host is done. Exit 0 only when every host is
done; else exit 5 with the failed hosts, and a rerun with --resume finishes them.

Examples:
  $ keysmith ssh rotate work --dry-run
  $ keysmith ssh rotate work --older-than 90d --json     # in a scheduled CI job
  $ keysmith ssh rotate work --resume`)
    .action(action(async (name: string, flags: RotateFlags, command: Command) => {
      const ctx = contextFor(command);
      const result = await rotateKey((await ctx.openVault()).vault, name, {
        ...(flags.hosts ? { hosts: flags.hosts.split(',').map((h) => h.trim()).filter(Boolean) } : {}),
        ...(flags.olderThan ? { olderThanMs: parseDuration(flags.olderThan, '--older-than') } : {}),
        concurrency: positiveInt(flags.concurrency, '--concurrency', 256),
        resume: flags.resume,
        dryRun: flags.dryRun,
        passphrase: () => ctx.secretInput(flags.passphraseStdin, `Passphrase for ${name}`, { instead: '--passphrase-stdin' }),
        connect: connectOptions(ctx, flags),
        dataDir: ctx.paths.data,
        now: ctx.now,
        onStep: (host, step) => {
          if (!ctx.flags.json) void ctx.status(`${host}: ${step}`);
          // Fault injection for the crash-and-resume tests: die right after a journalled step.
          if (ctx.env.KEYSMITH_FAILPOINT === `ssh-rotate:${step}`) process.kill(process.pid, 'SIGKILL');
        },
      });
      if (ctx.flags.json) await ctx.json(result);
      else await ctx.out(render(result));
      return { exitCode: result.status === 'incomplete' ? EXIT_CODES.unavailable : 0 };
    }));
}

function render(r: RotateResult): string {
  if (r.status === 'skipped') return `${r.name}: not rotated: ${r.reason}\n`;
  const head = r.status === 'planned'
    ? `${r.name}: would rotate ${r.oldFingerprint} on ${r.hosts.length} host(s): append new key, verify a login with it, remove the old key\n`
    : `${r.name}: ${r.oldFingerprint} → ${r.newFingerprint}: ${r.status === 'rotated' ? 'done on every host' : 'INCOMPLETE — rerun with --resume'}\n`;
  return head + table(['HOST', 'STATE', 'ERROR'], r.hosts.map((h) => [h.target, h.state, h.error ?? '']));
}
