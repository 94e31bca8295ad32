import type { Client } from 'ssh2';
import { KeysmithError } from '../errors.js';
import { addKey, removeKey } from './authorized-keys.js';
import { connect, NO_SFTP, sftp, type ConnectOptions, type Credentials, type Target } from './connect.js';
import { readRemoteFile, writeRemoteFile } from './remote-shell.js';

export const DEFAULT_AUTHORIZED_KEYS = '.ssh/authorized_keys';

/** How a host's authorized_keys was reached: over SFTP, or through its shell when it has no SFTP subsystem. */
export type RemoteVia = 'sftp' | 'shell';

/**
 * Reads a host's authorized_keys (undefined: missing), lets `edit` compute the new text
 * (undefined: leave it as it is), and writes that atomically — over SFTP, or, when the host has no
 * sftp subsystem, through its shell, like ssh-copy-id. `makeSshDir` creates `~/.ssh` (0700) first.
 */
async function editAuthorizedKeys(client: Client, path: string, makeSshDir: boolean, edit: (current: string | undefined) => string | undefined): Promise<RemoteVia> {
  let files: Awaited<ReturnType<typeof sftp>>;
  try {
    files = await sftp(client);
  } catch (err) {
    if (!(err instanceof KeysmithError && err.code === NO_SFTP)) throw err;
    const { text, stamp } = await readRemoteFile(client, path);
    const next = edit(text);
    if (next !== undefined) await writeRemoteFile(client, path, next, { stamp, makeSshDir });
    return 'shell';
  }
  try {
    if (makeSshDir) await files.ensureDir('.ssh');
    const next = edit(await files.read(path));
    if (next !== undefined) await files.writeAtomic(path, next);
    return 'sftp';
  } finally {
    files.end();
  }
}

/**
 * Adds a key line to a connected host's authorized_keys (creating ~/.ssh 0700 and the file 0600),
 * over SFTP or, on a host without it, through the shell; says whether it added it and which way.
 * @example const { added, via } = await appendKey(client, 'ssh-ed25519 AAAA… me', blob)
 */
export async function appendKey(client: Client, line: string, blob: string, authorizedKeys = DEFAULT_AUTHORIZED_KEYS): Promise<{ added: boolean; via: RemoteVia }> {
  let added = false;
  const via = await editAuthorizedKeys(client, authorizedKeys, authorizedKeys === DEFAULT_AUTHORIZED_KEYS, (current) => {
    const next = addKey(current ?? '', line, blob);
    added = next.added;
    return next.added ? next.text : undefined;
  });
  return { added, via };
}

/**
 * Removes a key (by its blob) from a connected host's authorized_keys, keeping every other line;
 * says how many lines went and which way the file was reached.
 * @example const { removed, via } = await dropKey(client, blob)
 */
export async function dropKey(client: Client, blob: string, authorizedKeys = DEFAULT_AUTHORIZED_KEYS): Promise<{ removed: number; via: RemoteVia }> {
  let removed = 0;
  const via = await editAuthorizedKeys(client, authorizedKeys, false, (current) => {
    if (current === undefined) return undefined;
    const next = removeKey(current, blob);
    removed = next.removed;
    return next.removed > 0 ? next.text : undefined;
  });
  return { removed, via };
}

/**
 * Puts a public key in a host's authorized_keys, like ssh-copy-id: idempotent, host key verified;
 * over SFTP, or through the shell on a host without an sftp subsystem (`via` says which).
 * @example const { added, via } = await deployKey('ssh-ed25519 AAAA… me', blob, parseTarget('deploy@web1'), { agent: process.env.SSH_AUTH_SOCK }, options)
 */
export async function deployKey(line: string, blob: string, target: Target, credentials: Credentials, options: ConnectOptions & { authorizedKeys?: string }): Promise<{ added: boolean; via: RemoteVia }> {
  const client = await connect(target, credentials, options);
  try {
    return await appendKey(client, line, blob, options.authorizedKeys);
  } finally {
    client.end();
  }
}
