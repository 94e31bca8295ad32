import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestKeyring {
  /** Variables that point a process at this keyring and nothing else (bus, HOME). */
  env: Record<string, string>;
  /** Locks the login collection. There is no headless unlock: a test that locks uses its own keyring. */
  lock(): void;
  stop(): void;
}

export const KEYRING_PASSWORD = 'test-keyring-password';

/**
 * A private D-Bus session with its own gnome-keyring, in a temp HOME: the real Secret Service, never
 * the user's keyring. Unlocked with a password first, then started (the start returns only once the
 * secrets component serves).
 */
export function startKeyring(): TestKeyring {
  const home = mkdtempSync(join(tmpdir(), 'keysmith-keyring-'));
  const runtime = join(home, 'run');
  mkdirSync(runtime, { mode: 0o700 });
  const out = execFileSync('dbus-daemon', ['--session', '--fork', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' });
  const [address, pid] = out.trim().split('\n');
  const env = {
    DBUS_SESSION_BUS_ADDRESS: address!,
    HOME: home,
    XDG_DATA_HOME: join(home, '.local/share'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_RUNTIME_DIR: runtime,
  };
  const childEnv = { ...process.env, ...env };
  execFileSync('gnome-keyring-daemon', ['--unlock', '--components=secrets'], { input: KEYRING_PASSWORD, env: childEnv, stdio: ['pipe', 'ignore', 'ignore'] });
  execFileSync('gnome-keyring-daemon', ['--start', '--components=secrets'], { env: childEnv, stdio: 'ignore' });
  const call = (method: string) =>
    execFileSync('dbus-send', ['--session', '--dest=org.freedesktop.secrets', '--print-reply', '/org/freedesktop/secrets',
      `org.freedesktop.Secret.Service.${method}`, 'array:objpath:/org/freedesktop/secrets/collection/login'], { env: childEnv, stdio: 'ignore' });
  return {
    env,
    lock: () => call('Lock'),
    // gnome-keyring-daemon exits when its session bus goes away.
    stop: () => {
      try {
        process.kill(Number(pid), 'SIGTERM');
      } catch { /* gone already */ }
      rmSync(home, { recursive: true, force: true });
    },
  };
}
