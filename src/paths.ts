import envPaths from 'env-paths';
import { join } from 'node:path';

export interface KeysmithPaths {
  /** config.json lives here. */
  config: string;
  /** The file vault, its identity and unlock sessions live here. */
  data: string;
}

/**
 * Where keysmith keeps its files: `KEYSMITH_HOME` when set (config and data together), else the
 * platform's config and data folders (XDG on Linux).
 */
export function resolvePaths(env: NodeJS.ProcessEnv): KeysmithPaths {
  const home = env.KEYSMITH_HOME;
  if (home) return { config: home, data: home };
  const p = envPaths('keysmith', { suffix: '' });
  return { config: p.config, data: p.data };
}

export const configFile = (paths: KeysmithPaths) => join(paths.config, 'config.json');
