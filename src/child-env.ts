/**
 * The environment every program keysmith starts begins with: the caller's, less every KEYSMITH_*
 * variable. Those carry the vault's keys (KEYSMITH_PASSPHRASE, _AGE_IDENTITY, _SESSION), the env
 * backend's secrets (KEYSMITH_SECRET_*) and other credentials (_BACKUP_PASSPHRASE, _SSH_PASSWORD):
 * a child handed them could read any secret. What a child should have is added by the caller, on
 * purpose (`keysmith exec --env NAME=secret`).
 * @example spawn('xdg-open', [url], { env: childEnvironment(process.env) })
 */
export function childEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (!name.startsWith('KEYSMITH_')) out[name] = value;
  return out;
}
