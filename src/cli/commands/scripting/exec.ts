import type { Command } from 'commander';
import { NotFoundError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { execWithSecrets } from '../../../exec/exec.js';
import { parseEnvFile, parseEnvFlag, type EnvEntry } from '../../../refs/env-file.js';
import { referenceOrName, resolveReferences } from '../../../refs/references.js';
import { repeatable } from '../../options.js';
import { action } from '../../action.js';
import { cliNotice } from '../../messages.js';
import type { ContextFor } from '../../context.js';
import { resolvers } from './resolvers.js';

interface ExecFlags {
  env: string[];
  envPath: string[];
  envFile: string[];
  mask: boolean;
  shell: boolean;
}

export default function execCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<command...>', 'the command and its arguments, after --')
    .addOption(repeatable('--env <VAR=name>', 'add VAR with the value of a secret (name, ks://name or ks://name#field); repeatable'))
    .addOption(repeatable('--env-path <VAR=name>', "add VAR with the path of a private file holding a secret's value (any bytes, any size); repeatable"))
    .addOption(repeatable('--env-file <file>', 'add the VAR=ks://… lines of a file (plain values pass through); repeatable'))
    .option('--no-mask', "do not mask secret values in the command's output")
    .option('--shell', 'run the command through /bin/sh -c', false)
    .addHelpText('after', `
Every reference is read before the command starts: a missing one fails (exit 3) and names it.
A value an environment variable cannot carry (not UTF-8, a NUL byte, over 128 KiB on Linux) is
refused: pass it with --env-path, as a 0600 file removed when the command ends.
Masking replaces each value, and its base64, base64url, hex, URL, form and JSON-escaped forms, with
*** in the command's stdout and stderr. With GITHUB_ACTIONS=true, ::add-mask:: is printed for each first.
Exit code: the command's own; 128+n when signal n ended it; 127 when it is not found; 126 when it cannot run.

Examples:
  $ keysmith exec --env DB_PASSWORD=db/password --env API_TOKEN=ci/token -- ./deploy.sh --prod
  $ keysmith exec --env-file .env.keysmith -- npm run migrate
  $ keysmith exec --env-path GOOGLE_APPLICATION_CREDENTIALS=gcp/sa-key -- terraform plan
  $ keysmith exec --env PGUSER=ks://db/prod#user --env PGPASSWORD=db/prod -- psql -h db1
  $ keysmith exec --shell --env T=ci/token -- 'curl -H "Authorization: Bearer $T" https://api.example.com'`)
    .action(action(async (command: string[], flags: ExecFlags, cmd: Command) => {
      const ctx = contextFor(cmd);
      const entries: EnvEntry[] = [];
      for (const file of flags.envFile) entries.push(...parseEnvFile(await readUserFile(file), file));
      entries.push(...flags.env.map(parseEnvFlag));
      // In an env file a plain value passes through; on the command line every value names a secret.
      const plain: Record<string, string> = {};
      const refs = new Map<string, ReturnType<typeof referenceOrName>>();
      /** Variables whose secret was named bare (`A=db/pw`), not as `ks://…`. */
      const bare = new Set<string>();
      for (const e of entries) {
        if (e.line > 0 && !e.value.startsWith('ks://')) {
          plain[e.name] = e.value;
          refs.delete(e.name);
        } else {
          refs.set(e.name, referenceOrName(e.value));
          if (e.value.startsWith('ks://')) bare.delete(e.name);
          else bare.add(e.name);
          delete plain[e.name];
        }
      }
      // --env-path: the same references, handed over as the paths of private files.
      const pathEntries = flags.envPath.map(parseEnvFlag);
      const paths = new Map(pathEntries.map((e) => [e.name, referenceOrName(e.value)] as const));
      for (const e of pathEntries) if (!e.value.startsWith('ks://')) bare.add(e.name);
      const secrets = new Map<string, Buffer>();
      const files = new Map<string, Buffer>();
      if (refs.size + paths.size > 0) {
        const { vault } = await ctx.openVault();
        const all = [...refs, ...paths];
        const values = await resolveReferences(vault, all.map(([, ref]) => ref), resolvers(ctx, vault)).catch((err: unknown) => {
          // A bare name that is not in the vault may be a value typed in its place: name the variable, not it.
          const missing = all.find(([name, ref]) => bare.has(name) && err instanceof NotFoundError && err.message.startsWith(`${ref.text}:`));
          if (!missing) throw err;
          throw new NotFoundError(`${missing[0]}: no secret by the name given after "=" (not shown: it may be a value typed by mistake)`, { hint: 'keysmith secret list shows the names' }, 'ERR_REF_NOT_FOUND');
        });
        for (const [name, ref] of refs) secrets.set(name, values.get(ref.text)!);
        for (const [name, ref] of paths) files.set(name, values.get(ref.text)!);
      }
      const result = await execWithSecrets({
        command,
        shell: flags.shell,
        env: ctx.env,
        secrets,
        files,
        plain,
        mask: flags.mask,
        stdin: ctx.io.stdin,
        stdout: ctx.io.stdout,
        stderr: ctx.io.stderr,
        merged: ctx.io.merged,
        // The runner reads both streams. stderr first: stdout is what pipes and $(…) take to another
        // program; and never a file the user redirected a stream to.
        announce: !ctx.io.toFile?.stderr ? ctx.io.stderr : !ctx.io.toFile.stdout ? ctx.io.stdout : null,
        warn: (line, detail) => void ctx.status(cliNotice(line, detail)),
      });
      return { exitCode: result.exitCode };
    }));
}
