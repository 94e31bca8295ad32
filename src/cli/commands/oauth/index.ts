import { Command } from 'commander';
import type { ContextFor } from '../../program.js';
import { addCommand, listCommand, removeCommand } from './providers.js';
import { loginCommand, logoutCommand, statusCommand, tokenCommand } from './session.js';

export function oauthCommand(contextFor: ContextFor): Command {
  return new Command('oauth')
    .description('log in to OAuth 2.0 / OpenID Connect providers and hand scripts fresh tokens')
    .addCommand(addCommand(contextFor))
    .addCommand(listCommand(contextFor))
    .addCommand(removeCommand(contextFor))
    .addCommand(loginCommand(contextFor))
    .addCommand(tokenCommand(contextFor))
    .addCommand(statusCommand(contextFor))
    .addCommand(logoutCommand(contextFor));
}
