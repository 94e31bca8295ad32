import { Command } from 'commander';
import type { ContextFor } from '../../context.js';
import { deployCommand } from './deploy.js';
import { hostsCommand } from './hosts/index.js';
import { keygenCommand } from './keygen.js';
import { fingerprintCommand } from './fingerprint.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { rotateCommand } from './rotate.js';
import { showCommand } from './show.js';

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
