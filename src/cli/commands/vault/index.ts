import { Command } from 'commander';
import type { ContextFor } from '../../context.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { initCommand } from './init.js';
import { lockCommand } from './lock.js';
import { migrateCommand } from './migrate.js';
import { statusCommand } from './status.js';
import { unlockCommand } from './unlock.js';

export function vaultCommand(contextFor: ContextFor): Command {
  return new Command('vault')
    .description('choose, set up, move, back up and unlock the vault')
    .addCommand(statusCommand(contextFor))
    .addCommand(initCommand(contextFor))
    .addCommand(migrateCommand(contextFor))
    .addCommand(exportCommand(contextFor))
    .addCommand(importCommand(contextFor))
    .addCommand(unlockCommand(contextFor))
    .addCommand(lockCommand(contextFor));
}
