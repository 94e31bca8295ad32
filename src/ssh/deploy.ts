import type { Client } from 'ssh2';
import { addKey, removeKey } from './authorized-keys.js';
import { connect, sftp, type ConnectOptions, type Credentials, type Target } from './connect.js';

export const DEFAULT_AUTHORIZED_KEYS = '.ssh/authorized_keys';

/** Adds a key line to a connected host's authorized_keys (creating ~/.ssh 0700 and the file 0600). */
export async function appendKey(client: Client, line: string, blob: string, authorizedKeys = DEFAULT_AUTHORIZED_KEYS): Promise<boolean> {
  const files = await sftp(client);
  try {
    if (authorizedKeys === DEFAULT_AUTHORIZED_KEYS) await files.ensureDir('.ssh');
    const current = (await files.read(authorizedKeys)) ?? '';
    const { text, added } = addKey(current, line, blob);
    if (added) await files.writeAtomic(authorizedKeys, text);
    return added;
  } finally {
    files.end();
  }
}

/** Removes a key (by its blob) from a connected host's authorized_keys, keeping every other line. */
export async function dropKey(client: Client, blob: string, authorizedKeys = DEFAULT_AUTHORIZED_KEYS): Promise<number> {
  const files = await sftp(client);
  try {
    const current = await files.read(authorizedKeys);
    if (current === undefined) return 0;
    const { text, removed } = removeKey(current, blob);
    if (removed > 0) await files.writeAtomic(authorizedKeys, text);
    return removed;
  } finally {
    files.end();
  }
}

/**
 * Puts a public key in a host's authorized_keys, like ssh-copy-id: idempotent, host key verified.
 * @example await deployKey('ssh-ed25519 AAAA… me', blob, parseTarget('deploy@web1'), { agent: process.env.SSH_AUTH_SOCK }, options)
 */
export async function deployKey(line: string, blob: string, target: Target, credentials: Credentials, options: ConnectOptions & { authorizedKeys?: string }): Promise<{ added: boolean }> {
  const client = await connect(target, credentials, options);
  try {
    return { added: await appendKey(client, line, blob, options.authorizedKeys) };
  } finally {
    client.end();
  }
}
