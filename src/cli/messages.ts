import type { ErrorDetail, KeysmithError, NoticeDetail, RedirectDetail } from '../errors.js';

/** The flag that sets each library option named in an `invalid-option` detail. */
const FLAGS: Record<string, string> = {
  length: '--length',
  charset: '--charset',
  bits: '-b',
  rounds: '--rounds',
  days: '--days',
  key: '--key',
  caFile: '--ca-file',
  env: '--env',
  backend: '--vault',
};

/**
 * An error as the CLI shows it: the library speaks of options and functions (`length`, `force`,
 * `unlockVault`); here its `detail` becomes the flags and commands a person at a shell types.
 * Errors without a detail are shown as they are.
 *
 * @example
 * const { message, hint } = cliMessage(err); // "--length: expected a whole number from 1 to 4096"
 */
export function cliMessage(err: KeysmithError): { message: string; hint: string | undefined } {
  const { message, hint } = err;
  const d = err.detail;
  if (!d) return { message, hint };
  switch (d.kind) {
    case 'invalid-option':
      return { message: `${FLAGS[d.option] ?? d.option}: ${d.reason}`, hint };
    case 'exists':
      if (d.what === 'file') return { message: `${message}; pass --force to replace it`, hint: undefined };
      if (d.what === 'ca') return { message: `${message}; pass --force to replace it (its certificates will no longer chain)`, hint: undefined };
      return { message, hint: 'pass --force to replace them; nothing was changed' };
    case 'port-in-use':
      return { message, hint: 'choose another --port, or leave --port out to use a free one' };
    case 'rotation-in-progress':
      return { message, hint: `finish it: keysmith ssh rotate ${d.key} --resume` };
    case 'no-hosts':
      return { message, hint: `add them: keysmith ssh hosts add ${d.key} user@host` };
    case 'no-ssh-key':
      return { message, hint: 'see keysmith ssh list; create one with keysmith ssh keygen or ssh import' };
    case 'encrypted-pem':
      return { message, hint: `keep its .pub beside it, or read it with: keysmith ssh import ${d.path}` };
    case 'unknown-host':
      return { message, hint: 'check the fingerprint, then pass --accept-new to record it in known_hosts' };
    case 'ssh-auth-failed':
      return { message, hint: 'is the key deployed there? for a first deploy use --identity, the ssh-agent or --password' };
    case 'no-ca':
      return { message, hint: `create one: keysmith tls ca create ${d.name}` };
    case 'no-issued-certificate':
      return { message, hint: 'names are those of keysmith tls issue (e.g. example.test+2); see keysmith secret list tls/cert/' };
    case 'no-trust-store':
      return { message: `no trust store found for --store ${d.store} on this system`, hint };
    case 'keychain':
      return { message, hint: KEYCHAIN_HINTS[d.problem]() };
    case 'read-only-vault':
      return { message, hint: d.backend === 'team' ? 'a member writes with their own key: keysmith team join, then a member adds you' : 'choose a writable vault with --vault file or --vault keychain' };
    case 'session':
      return { message, hint: d.problem === 'malformed' ? 'set it from `keysmith vault unlock`' : 'run `keysmith vault unlock` again' };
    case 'no-identity':
      return { message, hint: 'set KEYSMITH_AGE_IDENTITY (an AGE-SECRET-KEY-1… or a file of them), or KEYSMITH_SESSION from `keysmith vault unlock`' };
    case 'no-file-vault':
      return { message, hint: 'keysmith vault init --backend file' };
    case 'empty-passphrase':
      return { message: 'an empty passphrase protects nothing: give a passphrase (KEYSMITH_BACKUP_PASSPHRASE or the prompt), or --recipient', hint };
    case 'login-needed':
      return { message, hint: `run keysmith oauth login ${d.provider}` };
    case 'no-provider':
      return { message, hint: `add it: keysmith oauth add ${d.provider} --issuer URL --client-id ID` };
    case 'client-rejected':
      return { message, hint: clientRejectedHint(d) };
    case 'login-timeout':
      return { message, hint: `try again, or --device. If the provider showed an error page instead of a login, ${redirectAdvice(d)}` };
    case 'no-device-flow':
      return { message, hint: 'log in without --device' };
    case 'no-login':
      return { message: `${message}; keysmith oauth token ${d.provider} fetches a token`, hint: undefined };
    case 'no-team':
      return { message, hint: `create it (keysmith team create ${d.team} --remote URL) or join it (keysmith team join ${d.team} URL)` };
    case 'team-conflict':
      return { message, hint: `read theirs with keysmith secret get @${d.team}/${d.secrets[0]} --theirs, then keysmith team resolve ${d.team} --keep mine|theirs` };
    case 'env-value':
      return { message, hint: `pass it as a file instead: --env-path ${d.variable}=… gives the command the path of a private (0600) file holding it` };
  }
}

/**
 * A line the library gave its `warn` or `tell` callback, in the CLI's words when it came with a
 * detail; other lines as they are.
 *
 * @example
 * warn: (line, detail) => void ctx.status(cliNotice(line, detail))
 */
export function cliNotice(line: string, detail?: NoticeDetail): string {
  switch (detail?.kind) {
    case undefined:
      return line;
    case 'redirect-refused':
      return `keysmith: the provider answered HTTP ${detail.status} to the login request, not a login page: ${redirectAdvice(detail)}`;
    case 'env-too-large':
      return 'hint: pass large values as files: --env-path VAR=name';
  }
}

/** How to make the provider authenticate the client: the method keysmith used, and the other. */
function clientRejectedHint(d: Extract<ErrorDetail, { kind: 'client-rejected' }>): string {
  if (d.method === 'none') return `check that client ${d.clientId} is a public client at the provider, or add ${d.provider} again with --client-secret-stdin`;
  const other = d.method === 'client_secret_basic' ? 'post' : 'basic';
  const encoded = d.formEncoded ? ' (the secret has characters HTTP Basic sends form-encoded, RFC 6749 §2.3.1, which some providers do not decode)' : '';
  return `check the client secret; keysmith authenticated with ${d.method}${encoded}: if the client is registered for client_secret_${other}, add ${d.provider} again with --auth-method ${other}`;
}

/** What to do about a redirect URI the provider may refuse: register it, and with any port, fix one with --redirect-port. */
const redirectAdvice = (r: RedirectDetail) => (r.fixedPort
  ? `register the redirect URI ${r.redirectUri} for client ${r.clientId} at the provider`
  : `it may accept only registered ports (RFC 8252 §7.3 unmet): register ${r.redirectUri} for client ${r.clientId} and add ${r.provider} again with --redirect-port PORT`);

const KEYCHAIN_HINTS: Record<'not-loaded' | 'locked' | 'unavailable' | 'unusable' | 'too-large', () => string> = {
  'not-loaded': () => 'use the encrypted file vault: keysmith vault init --backend file',
  locked: () => 'unlock it (log in to the desktop session, or `gnome-keyring-daemon --unlock` with its password on stdin), or use --vault file',
  unavailable: () => (process.platform === 'linux' ? 'start a Secret Service (gnome-keyring, KeePassXC) in a D-Bus session, or use --vault file' : 'use --vault file'),
  unusable: () => 'use keysmith vault init --backend file',
  'too-large': () => 'store large values in the file vault: --vault file',
};

/** How `vault status` says where the backend choice came from, in the CLI's words. */
export function cliBackendReason(source: 'option' | 'env' | 'config' | 'default', reason: string): string {
  if (source === 'option') return 'chosen with --vault';
  if (source === 'config') return 'set in config.json (keysmith vault init)';
  return reason;
}
