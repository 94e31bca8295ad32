import type { Command } from 'commander';
import type { ContextFor } from '../../../context.js';
import { changeTrustCommand } from './trust.js';

/** `tls ca untrust`: the reverse of `tls ca trust`, the same command removing instead of adding. */
export default function caUntrustCommand(command: Command, contextFor: ContextFor): Command {
  return changeTrustCommand(command, contextFor, 'untrust');
}
