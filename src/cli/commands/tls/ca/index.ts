import { Command } from 'commander';
import type { ContextFor } from '../../../context.js';
import { caCreateCommand } from './create.js';
import { caExportCommand } from './export.js';
import { caListCommand } from './list.js';
import { caShowCommand } from './show.js';
import { caTrustCommand } from './trust.js';
import { caUntrustCommand } from './untrust.js';

export function caCommand(contextFor: ContextFor): Command {
  return new Command('ca')
    .description('create, list, show and export local certificate authorities (kept in the vault)')
    .addCommand(caCreateCommand(contextFor))
    .addCommand(caListCommand(contextFor))
    .addCommand(caShowCommand(contextFor))
    .addCommand(caExportCommand(contextFor))
    .addCommand(caTrustCommand(contextFor))
    .addCommand(caUntrustCommand(contextFor));
}
