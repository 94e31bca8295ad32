import type { KeysmithError } from '../errors.js';

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
      return { message, hint: 'choose a writable vault with --vault file or --vault keychain' };
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
  }
}

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
