import { Command } from 'commander';
import type { ContextFor } from '../../program.js';
import { deployCommand } from './deploy.js';
import { hostsCommand } from './hosts.js';
import { keygenCommand } from './keygen.js';
import { fingerprintCommand, importCommand, listCommand, showCommand } from './keys.js';
import { rotateCommand } from './rotate.js';

export function sshCommand(contextFor: ContextFor): Command {
  return new Command('ssh')
    .description('generate, inspect, deploy and rotate SSH keys')
    .addCommand(keygenCommand(contextFor))
    .addCommand(listCommand(contextFor))
    .addCommand(showCommand(contextFor))
    .addCommand(fingerprintCommand(contextFor))
    .addCommand(importCommand(contextFor))
    .addCommand(hostsCommand(contextFor))
    .addCommand(deployCommand(contextFor))
    .addCommand(rotateCommand(contextFor));
}
