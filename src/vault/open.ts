import { join } from 'node:path';
import { readConfig, updateConfig, type KeysmithConfig } from '../config.js';
import { invalidOption, UsageError } from '../errors.js';
import { EnvVault } from './env.js';
import { FileVault } from './file.js';
import type { IdentityContext } from './identity.js';
import { KeychainVault, probeKeychain } from './keychain.js';
import { teamName } from './names.js';
import type { BackendName, Vault } from './types.js';

/** The backends a user chooses between; a team's vault is reached by its names (`@team/…`). */
export const BACKENDS: readonly BackendName[] = ['keychain', 'file', 'env'];

export interface VaultOptions extends Omit<IdentityContext, 'config' | 'keychainService'> {
  /** The backend asked for; overrides KEYSMITH_VAULT and the config file. */
  backend?: string;
}

/** Where the choice of backend came from: `backend`, KEYSMITH_VAULT, config.json, or a probe. */
export type BackendSource = 'option' | 'env' | 'config' | 'default';

export interface OpenedVault {
  vault: Vault;
  backend: BackendName;
  /** Why this backend, in words. */
  reason: string;
  source: BackendSource;
  config: KeysmithConfig;
}

export const keychainService = (env: NodeJS.ProcessEnv) => env.KEYSMITH_KEYCHAIN_SERVICE || 'keysmith';
export const vaultFile = (dataDir: string) => join(dataDir, 'vault.age');

function parseBackend(value: string, from: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  if (from === 'backend') throw invalidOption('backend', `unknown vault backend ${JSON.stringify(value)} (use ${BACKENDS.join(', ')})`, { allowed: BACKENDS }, 'ERR_VAULT_BAD_BACKEND');
  throw new UsageError(`${from}: unknown vault backend ${JSON.stringify(value)} (use ${BACKENDS.join(', ')})`, undefined, 'ERR_VAULT_BAD_BACKEND');
}

/**
 * Chooses the backend once per invocation: `backend`, then KEYSMITH_VAULT, then the config file, else
 * the OS keychain when it answers, else the encrypted file. Never plaintext. A choice made by probing
 * is written to the config file on the first write, so a keychain that is later locked is reported
 * as locked rather than silently replaced by another backend.
 */
export async function chooseBackend(options: VaultOptions, config: KeysmithConfig): Promise<{ backend: BackendName; reason: string; source: BackendSource; probed: boolean }> {
  if (options.backend) return { backend: parseBackend(options.backend, 'backend'), reason: 'chosen with the backend option', source: 'option', probed: false };
  const fromEnv = options.env.KEYSMITH_VAULT;
  if (fromEnv) return { backend: parseBackend(fromEnv, 'KEYSMITH_VAULT'), reason: 'chosen with KEYSMITH_VAULT', source: 'env', probed: false };
  if (config.vault) return { backend: parseBackend(config.vault, 'config.json'), reason: 'set in config.json', source: 'config', probed: false };
  const probe = await probeKeychain(keychainService(options.env), options.env);
  return probe.ok
    ? { backend: 'keychain', reason: `default: ${probe.reason}`, source: 'default', probed: true }
    : { backend: 'file', reason: `default: the OS keychain is not usable (${probe.reason})`, source: 'default', probed: true };
}

/** Opens the vault this invocation uses. */
export async function openVault(options: VaultOptions): Promise<OpenedVault> {
  const config = await readConfig(options.paths);
  const { backend, reason, source, probed } = await chooseBackend(options, config);
  let vault = createVault(backend, options, config);
  if (probed) vault = rememberOnWrite(vault, () => updateConfig(options.paths, { vault: backend }));
  return { vault: withTeams(vault, options), backend, reason, source, config };
}

/**
 * Names `@team/…` go to that team's vault (src/team, loaded on first use), every other name to
 * `vault`: each command and `ks://` reference works on a team's secrets as on its own.
 */
function withTeams(vault: Vault, options: VaultOptions): Vault {
  const teams = new Map<string, Promise<Vault>>();
  const route = (name: string): Promise<[Vault, string]> | undefined => {
    const t = teamName(name);
    if (!t) return undefined;
    if (!teams.has(t.team)) teams.set(t.team, import('../team/manage.js').then(({ openTeam }) => openTeam(options, t.team)));
    return teams.get(t.team)!.then((team) => [team, t.name]);
  };
  return {
    get: async (name) => {
      const to = route(name);
      if (!to) return vault.get(name);
      const [team, inTeam] = await to;
      return team.get(inTeam);
    },
    set: async (name, record) => {
      const to = route(name);
      if (!to) return vault.set(name, record);
      const [team, inTeam] = await to;
      return team.set(inTeam, record);
    },
    delete: async (name) => {
      const to = route(name);
      if (!to) return vault.delete(name);
      const [team, inTeam] = await to;
      return team.delete(inTeam);
    },
    list: async (prefix) => {
      const to = prefix === undefined ? undefined : route(prefix.includes('/') ? prefix : `${prefix}/`);
      if (!to) return vault.list(prefix);
      const [team, inTeam] = await to;
      const t = teamName(prefix!.includes('/') ? prefix! : `${prefix}/`)!;
      return (await team.list(inTeam)).map((i) => ({ ...i, name: `@${t.team}/${i.name}` }));
    },
    describe: () => vault.describe(),
    setMany: async (entries) => {
      if (entries.some(([name]) => teamName(name))) throw new UsageError('several secrets at once go to one vault, not a team\'s', undefined, 'ERR_VAULT_MIXED');
      await (vault.setMany ? vault.setMany(entries) : Promise.all(entries.map(([n, r]) => vault.set(n, r))));
    },
  };
}

export function createVault(backend: BackendName, options: VaultOptions, config: KeysmithConfig): Vault {
  const service = keychainService(options.env);
  switch (backend) {
    case 'env':
      return new EnvVault(options.env);
    case 'keychain':
      return new KeychainVault(service);
    case 'file':
      return new FileVault(vaultFile(options.paths.data), { ...options, config, keychainService: service });
    case 'team':
      throw new UsageError('a team vault is reached by its names (@team/…), not chosen as the backend', undefined, 'ERR_VAULT_BAD_BACKEND');
  }
}

function rememberOnWrite(vault: Vault, remember: () => Promise<unknown>): Vault {
  let remembered = false;
  const after = async () => {
    if (!remembered) await remember();
    remembered = true;
  };
  return {
    get: (name) => vault.get(name),
    list: (prefix) => vault.list(prefix),
    delete: (name) => vault.delete(name),
    describe: () => vault.describe(),
    set: async (name, record) => {
      await vault.set(name, record);
      await after();
    },
    setMany: async (entries) => {
      await (vault.setMany ? vault.setMany(entries) : Promise.all(entries.map(([n, r]) => vault.set(n, r))));
      await after();
    },
  };
}
