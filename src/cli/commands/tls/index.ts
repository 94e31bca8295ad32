import { Command } from 'commander';
import type { ContextFor } from '../../context.js';
import { caCommand } from './ca/index.js';
import { checkCommand } from './check.js';
import { csrCommand } from './csr.js';
import { exportCommand } from './export.js';
import { inspectCommand } from './inspect.js';
import { issueCommand } from './issue.js';
import { signCommand } from './sign.js';

export function tlsCommand(contextFor: ContextFor): Command {
  return new Command('tls')
    .description('a local CA in the vault: issue and sign certificates, inspect certificates and requests')
    .addCommand(caCommand(contextFor))
    .addCommand(issueCommand(contextFor))
    .addCommand(csrCommand(contextFor))
    .addCommand(signCommand(contextFor))
    .addCommand(inspectCommand(contextFor))
    .addCommand(checkCommand(contextFor))
    .addCommand(exportCommand(contextFor));
}
