import type { Command } from 'commander';
import { UsageError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { validateName } from '../../../vault/names.js';
import { findSecret, putSecret } from '../../../vault/secrets.js';
import { parseDuration, parseTime } from '../../../duration.js';
import type { Context, ContextFor } from '../../context.js';
import { readAll } from '../../io.js';
import { repeatable } from '../../options.js';
import { vaultOf } from '../../output.js';

interface SetFlags {
  fromFile?: string;
  fromEnv?: string;
  kind: string;
  field: string[];
  expires?: string;
  rotateEvery?: string;
}

export default function setCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<name>', 'secret name, e.g. db/prod/password')
    .argument('[source]', '"-" to read the value from stdin')
    .option('--from-file <path>', 'read the value from a file (bytes exactly)')
    .option('--from-env <variable>', 'read the value from an environment variable')
    .option('--kind <kind>', 'record kind: secret, password, token, …', 'secret')
    .addOption(repeatable('--field <key=value>', 'a non-secret field of the record (repeatable)'))
    .option('--expires <time>', 'when it stops working (ISO 8601 date or time), for keysmith expiry')
    .option('--rotate-every <duration>', 'a rotation period (e.g. 90d) from each update, for keysmith expiry; kept across updates')
    .addHelpText('after', `
Examples:
  $ keysmith secret set db/password                     # hidden prompt, asked twice
  $ printf %s "$TOKEN" | keysmith secret set ci/token -
  $ keysmith secret set tls/key --from-file key.pem
  $ keysmith secret set db/prod --from-env DB_PASSWORD --field user=app --field host=db1
  $ printf %s "$KEY" | keysmith secret set api/key - --expires 2027-03-01

The value is stored byte for byte: \`echo\` adds a newline, \`printf %s\` does not.`)
    .action(async (name: string, source: string | undefined, flags: SetFlags, command: Command) => {
      const ctx = contextFor(command);
      validateName(name);
      const fields = parseFields(flags.field);
      if (flags.expires !== undefined && flags.rotateEvery !== undefined) throw new UsageError('--expires or --rotate-every, not both');
      const expires = flags.expires === undefined ? undefined : parseTime(flags.expires, '--expires').toISOString();
      const rotateEvery = flags.rotateEvery === undefined ? undefined : parseDuration(flags.rotateEvery, '--rotate-every');
      const value = await readValue(ctx, source, flags);
      const opened = await ctx.openVault();
      // A rotation period outlives updates (each update is a rotation); an end date belongs to the value it came with.
      const kept = (await findSecret(opened.vault, name))?.meta?.rotateEvery;
      const meta = expires ? { expires } : rotateEvery ? { rotateEvery } : typeof kept === 'number' ? { rotateEvery: kept } : undefined;
      const { created } = await putSecret(opened.vault, name, value, { kind: flags.kind, fields, now: ctx.now(), ...(meta ? { meta } : {}) });
      if (ctx.flags.json) await ctx.json({ name, kind: flags.kind, backend: opened.backend, created });
      await ctx.status(`${created ? 'stored' : 'updated'} ${name} in ${vaultOf(name, opened.backend)}`);
    });
}

async function readValue(ctx: Context, source: string | undefined, flags: SetFlags): Promise<Uint8Array | string> {
  if (source !== undefined && source !== '-') {
    // Never echo it: it may be the secret someone typed.
    throw new UsageError('unexpected second argument: secret values never go in argv', {
      hint: 'pipe the value and pass "-", or use --from-file or --from-env',
    });
  }
  const chosen = [source === '-', flags.fromFile !== undefined, flags.fromEnv !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('choose one value source: "-", --from-file or --from-env');
  const instead = '"-" with the value on stdin, --from-file FILE or --from-env VARIABLE';
  let value: Uint8Array | string;
  if (flags.fromFile !== undefined) value = await readUserFile(flags.fromFile);
  else if (flags.fromEnv !== undefined) {
    const v = ctx.env[flags.fromEnv];
    if (v === undefined) throw new UsageError(`--from-env: ${flags.fromEnv} is not set`);
    value = v;
  } else if (source === '-' || !ctx.io.isTTY.stdin) {
    value = await readAll(ctx.io.stdin);
    if (value.length > 0 && value[value.length - 1] === 0x0a && (value.length < 2 || value[value.length - 2] !== 0x0a)) {
      await ctx.status('note: the value ends with a newline, stored as is (use printf %s to leave it out)');
    }
  } else value = await ctx.askSecret('Value', { confirm: true, instead });
  if (value.length === 0) throw new UsageError(`no value given (empty)`, { hint: `pass ${instead}` }, 'ERR_NO_VALUE');
  return value;
}

function parseFields(pairs: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError("--field: expected key=value (what was given is not shown: it may be a value)");
    fields[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return fields;
}
