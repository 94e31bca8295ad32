import { userInfo } from 'node:os';
import { expandPath } from '../../../ssh/store.js';
import type { Context } from '../../context.js';

/** The member key: `--key`, else ~/.ssh/id_ed25519 (the private key; its .pub beside it is the recipient). */
export const keyPath = (ctx: Context, key?: string) => expandPath(key ?? '~/.ssh/id_ed25519', ctx.env);

/** Your member name: `--as`, else the login name. */
export const memberName = (as?: string) => as ?? userInfo().username;
