import type { Command } from 'commander';
import { agentStatus } from '../../../../ssh/agent/agent.js';
import { NotFoundError } from '../../../../errors.js';
import type { ContextFor } from '../../../context.js';

export default function agentStatusCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
Exit 0 when the agent runs, 3 when it does not.

Example:
  $ keysmith ssh agent status --json   # {running, pid, socket, started, identities}`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const status = await agentStatus(ctx.paths.data);
      if (ctx.flags.json) await ctx.json(status);
      if (!status.running) throw new NotFoundError('no keysmith agent is running', { hint: 'eval "$(keysmith ssh agent start)"' }, 'ERR_AGENT_NOT_RUNNING');
      if (!ctx.flags.json) await ctx.out(`running: pid ${status.pid}, since ${status.started}\nsocket: ${status.socket}\nidentities: ${status.identities}\n`);
    });
}
