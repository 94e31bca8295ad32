import { NotFoundError, UsageError } from '../errors.js';
import { nameOf } from '../vault/names.js';
import { findSecret } from '../vault/secrets.js';
import type { Vault } from '../vault/types.js';

/**
 * The docker credential-helper protocol (docker/docker-credential-helpers), which docker, podman,
 * skopeo and buildah speak: `store` reads {ServerURL, Username, Secret} as JSON; `get` and `erase`
 * read a server URL; `get` prints {ServerURL, Username, Secret}; `list` prints {serverURL:
 * username}. Each registry is a record `registry/<host>` of kind `registry-credential`.
 */

/** What docker-credential-helpers' clients recognise as "not found" (credentials.errCredentialsNotFound). */
export const CREDENTIALS_NOT_FOUND = 'credentials not found in native keychain';

export interface RegistryCredential {
  ServerURL: string;
  Username: string;
  Secret: string;
}

/** A registry's host (and port) from a server URL as docker passes it: `127.0.0.1:5000`, `https://index.docker.io/v1/`. */
export function registryHost(serverUrl: string): string {
  const text = serverUrl.trim();
  if (text === '') throw new UsageError('no server URL', undefined, 'ERR_REGISTRY_INPUT');
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw new UsageError(`not a registry address: ${JSON.stringify(text.slice(0, 80))}`, undefined, 'ERR_REGISTRY_INPUT');
  }
  return url.host.toLowerCase();
}

/** `registry/<host>`, the host (and port) written injectively (namePart: `127.0.0.1:5000` is `127.0.0.1_3a5000`). */
export function registryRecordName(serverUrl: string): string {
  return nameOf('registry', [registryHost(serverUrl)]);
}

const notFound = () => new NotFoundError(CREDENTIALS_NOT_FOUND, undefined, 'ERR_REGISTRY_NOT_FOUND');

/** `store`: keeps the registry's username and secret (the secret as the record's value). */
export async function storeRegistryCredential(vault: Vault, input: string, now: Date): Promise<void> {
  let c: Partial<RegistryCredential>;
  try {
    c = JSON.parse(input) as Partial<RegistryCredential>;
  } catch {
    throw new UsageError('docker credential store: the input is not JSON {ServerURL, Username, Secret}', undefined, 'ERR_REGISTRY_INPUT');
  }
  if (typeof c.ServerURL !== 'string' || typeof c.Username !== 'string' || typeof c.Secret !== 'string') {
    throw new UsageError('docker credential store: ServerURL, Username and Secret are needed, as strings', undefined, 'ERR_REGISTRY_INPUT');
  }
  const name = registryRecordName(c.ServerURL);
  const previous = await findSecret(vault, name);
  if (previous && previous.kind !== 'registry-credential') throw new UsageError(`${name} holds a ${previous.kind}, not a registry credential: keysmith will not replace it`, undefined, 'ERR_REGISTRY_EXISTS');
  const at = now.toISOString();
  await vault.set(name, { kind: 'registry-credential', value: c.Secret, fields: { serverURL: c.ServerURL, username: c.Username }, created: previous?.created ?? at, updated: at });
}

/** `get`: the credential for a server URL's host, or NotFoundError with docker's own message. */
export async function getRegistryCredential(vault: Vault, serverUrl: string): Promise<RegistryCredential> {
  const record = await findSecret(vault, registryRecordName(serverUrl));
  if (!record || record.kind !== 'registry-credential' || registryHost(record.fields.serverURL ?? '') !== registryHost(serverUrl)) throw notFound();
  return { ServerURL: serverUrl.trim(), Username: record.fields.username ?? '', Secret: record.value };
}

/** `erase`: drops the host's credential; NotFoundError when there is none. */
export async function eraseRegistryCredential(vault: Vault, serverUrl: string): Promise<void> {
  await getRegistryCredential(vault, serverUrl);
  await vault.delete(registryRecordName(serverUrl));
}

/** `list`: every kept server URL and its username — never a secret. */
export async function listRegistryCredentials(vault: Vault): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const info of await vault.list('registry/')) {
    if (info.kind !== 'registry-credential') continue;
    const record = await findSecret(vault, info.name);
    if (record?.fields.serverURL) out[record.fields.serverURL] = record.fields.username ?? '';
  }
  return out;
}
