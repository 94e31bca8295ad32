import { Command } from 'commander';
import type { ContextFor } from '../../../context.js';
import { hostsAddCommand } from './add.js';
import { hostsListCommand } from './list.js';
import { hostsRmCommand } from './rm.js';

export function hostsCommand(contextFor: ContextFor): Command {
  return new Command('hosts')
    .description('the hosts a key is deployed to (used by rotate)')
    .addCommand(hostsAddCommand(contextFor))
    .addCommand(hostsRmCommand(contextFor))
    .addCommand(hostsListCommand(contextFor));
}
