import { type Command, Option } from 'commander';
import { createCa, parseDays } from '../../../../tls/ca.js';
import { repeatable } from '../../../options.js';
import type { ContextFor } from '../../../context.js';
import { KEY_TYPES } from '../issue.js';

export default function caCreateCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('[name]', 'CA name', 'dev')
    .addOption(new Option('--key <type>', 'key type').choices(KEY_TYPES).default('ec:p256'))
    .option('--days <n>', 'lifetime in days', '3650')
    .addOption(repeatable('--name-constraint <domain>', 'only allow names under this domain (repeatable)'))
    .option('-f, --force', 'replace an existing CA of that name', false)
    .addHelpText('after', `
Examples:
  $ keysmith tls ca create
  $ keysmith tls ca create corp --key rsa:4096 --days 1825 --name-constraint corp.test`)
    .action(async (name: string, flags: { key: string; days: string; nameConstraint: string[]; force: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const days = parseDays(flags.days);
      const { vault } = await ctx.openVault();
      const created = await createCa(vault, name, { key: flags.key, days, nameConstraints: flags.nameConstraint, force: flags.force, now: ctx.now() });
      if (ctx.flags.json) return ctx.json({ name, key: created.algorithm.spec, subject: created.certificate.subject, notAfter: created.certificate.notAfter.toISOString() });
      await ctx.status(`created CA ${name} (${created.algorithm.spec}, valid until ${created.certificate.notAfter.toISOString()}); its certificate: keysmith tls ca export ${name}`);
    });
}
