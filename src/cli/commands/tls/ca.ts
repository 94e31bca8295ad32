import { Command, Option } from 'commander';
import { checkOutputs, writeFileAtomic } from '../../../fs.js';
import { createCa, listCas, loadCa, parseDays } from '../../../tls/ca.js';
import { inspectBytes, type CertificateInfo } from '../../../tls/inspect.js';
import { changeTrust, type StoreChoice } from '../../../tls/trust.js';
import { repeatable } from '../../options.js';
import { table } from '../../output.js';
import type { ContextFor } from '../../program.js';
import { KEY_TYPES } from './issue.js';
import { renderInfo } from './render.js';

export function caCommand(contextFor: ContextFor): Command {
  const ca = new Command('ca').description('create, list, show and export local certificate authorities (kept in the vault)');

  ca.addCommand(
    new Command('create')
      .description('create a local root CA; its key stays in the vault')
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
      }),
  );

  ca.addCommand(
    new Command('list')
      .description('list the CAs in the vault')
      .addHelpText('after', `
Example:
  $ keysmith tls ca list --json     # [{name, subject, key, notAfter, daysLeft}]`)
      .action(async (_flags: unknown, command: Command) => {
        const ctx = contextFor(command);
        const { vault } = await ctx.openVault();
        const rows = [];
        for (const name of await listCas(vault)) {
          const [info] = (await inspectBytes(Buffer.from((await loadCa(vault, name)).certificatePem), name, ctx.now())) as CertificateInfo[];
          rows.push({ name, subject: info!.subject, key: info!.key, notAfter: info!.notAfter, daysLeft: info!.daysLeft });
        }
        if (ctx.flags.json) return ctx.json(rows);
        if (rows.length === 0) return ctx.status('no CAs yet: keysmith tls ca create');
        await ctx.out(table(['NAME', 'KEY', 'EXPIRES', 'DAYS LEFT'], rows.map((r) => [r.name, `${r.key.type} ${r.key.bits ?? ''}`.trim(), r.notAfter, String(r.daysLeft)])));
      }),
  );

  ca.addCommand(
    new Command('show')
      .description("show a CA's certificate")
      .argument('[name]', 'CA name', 'dev')
      .addHelpText('after', `
Example:
  $ keysmith tls ca show dev --json`)
      .action(async (name: string, _flags: unknown, command: Command) => {
        const ctx = contextFor(command);
        const { vault } = await ctx.openVault();
        const [info] = await inspectBytes(Buffer.from((await loadCa(vault, name)).certificatePem), name, ctx.now());
        if (ctx.flags.json) return ctx.json(info);
        await ctx.out(renderInfo(info!));
      }),
  );

  ca.addCommand(
    new Command('export')
      .description("print or write a CA's certificate (PEM) — never its key")
      .argument('[name]', 'CA name', 'dev')
      .option('--out <file>', 'write to a file instead of stdout')
      .option('-f, --force', 'replace an existing file', false)
      .addHelpText('after', `
Examples:
  $ keysmith tls ca export dev --out ca.pem
  $ openssl verify -CAfile <(keysmith tls ca export) example.test.pem`)
      .action(async (name: string, flags: { out?: string; force: boolean }, command: Command) => {
        const ctx = contextFor(command);
        if (flags.out) await checkOutputs([flags.out], flags.force);
        const { vault } = await ctx.openVault();
        const { certificatePem } = await loadCa(vault, name);
        if (!flags.out) return ctx.out(certificatePem);
        await writeFileAtomic(flags.out, certificatePem, { mode: 0o644, overwrite: flags.force });
        await ctx.status(`wrote ${flags.out}`);
      }),
  );
  for (const action of ['trust', 'untrust'] as const) {
    ca.addCommand(
      new Command(action)
        .description(action === 'trust'
          ? 'add a CA to the system trust store and NSS databases (Chrome, Firefox), as mkcert -install does'
          : 'remove a CA from the system trust store and NSS databases')
        .argument('[name]', 'CA name', 'dev')
        .addOption(new Option('--store <store>', 'which stores').choices(['system', 'nss', 'all']).default('all'))
        .addHelpText('after', `
The system store needs administrator rights (sudo). KEYSMITH_TRUST_ROOT prefixes the Linux
system-store paths, to stage a trust store in a folder.

Examples:
  $ sudo keysmith tls ca ${action} dev
  $ keysmith tls ca ${action} dev --store nss --json   # [{store, location, changed}]`)
        .action(async (name: string, flags: { store: StoreChoice }, command: Command) => {
          const ctx = contextFor(command);
          const { vault } = await ctx.openVault();
          const { certificatePem } = await loadCa(vault, name);
          const outcomes = await changeTrust(name, certificatePem, flags.store, ctx.env, action === 'trust' ? 'add' : 'remove');
          if (ctx.flags.json) return ctx.json(outcomes);
          for (const o of outcomes) {
            await ctx.status(`${o.changed ? (action === 'trust' ? 'trusted in' : 'removed from') : 'was not in'} ${o.store} store ${o.location}`);
          }
        }),
    );
  }
  return ca;
}
