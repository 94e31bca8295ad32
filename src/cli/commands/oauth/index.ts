import { Command } from 'commander';
import type { ContextFor } from '../../context.js';
import { addCommand } from './add.js';
import { listCommand } from './list.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { removeCommand } from './remove.js';
import { statusCommand } from './status.js';
import { tokenCommand } from './token.js';

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
