import type { Command } from 'commander';
import { stopAgent } from '../../../../ssh/agent/agent.js';
import type { ContextFor } from '../../../context.js';

export default function agentStopCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .addHelpText('after', `
The agent forgets its keys, then exits. stdout has shell lines that unset its variables.

Example:
  $ eval "$(keysmith ssh agent stop)"`)
    .action(async (_flags: unknown, command: Command) => {
      const ctx = contextFor(command);
      const state = await stopAgent(ctx.paths.data);
      if (ctx.flags.json) return ctx.json({ stopped: true, pid: state.pid, socket: state.socket });
      await ctx.out('unset SSH_AUTH_SOCK;\nunset SSH_AGENT_PID;\n');
      await ctx.status(`stopped the agent (pid ${state.pid})`);
    });
}
