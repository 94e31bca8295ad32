import { Command } from 'commander';
import type { ContextFor } from '../../context.js';
import { generateCommand } from './generate.js';
import { getCommand } from './get.js';
import { listCommand } from './list.js';
import { rmCommand } from './rm.js';
import { setCommand } from './set.js';

export function secretCommand(contextFor: ContextFor): Command {
  return new Command('secret')
    .description('store, read, list, generate and remove secrets')
    .addCommand(setCommand(contextFor))
    .addCommand(getCommand(contextFor))
    .addCommand(listCommand(contextFor))
    .addCommand(rmCommand(contextFor))
    .addCommand(generateCommand(contextFor));
}
