import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  port: number;
  dir: string;
  /** With `chroot`: the login's home as SFTP sees it, on the local disk. */
  home?: string;
  /** The AuthorizedKeysFile this sshd reads (a temp file, never a real ~/.ssh). */
  authorizedKeys: string;
  /** The host's private key (its .pub beside it), for a host certificate. */
  hostKey: string;
  stop(): Promise<void>;
  /** Starts again on the same port, optionally with a new host key (a "reinstalled" host). */
  restart(options?: { newHostKey?: boolean }): Promise<void>;
}

/** A port free on 127.0.0.1 just now. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('sshd did not start listening');
}

/**
 * A real OpenSSH sshd on 127.0.0.1 and a random port, with a temp config, host key and
 * AuthorizedKeysFile, for the user running the tests.
 */
export interface SshdOptions {
  chroot?: boolean;
  /** false: no `Subsystem sftp` (a host deploy must reach through the shell). */
  sftp?: boolean;
  /** More sshd_config lines (TrustedUserCAKeys, HostCertificate, …), after the defaults. */
  config?: string[];
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      // The free port can be taken by a parallel test between picking and binding: pick again.
      if (attempt === 3) throw err;
    }
  }
}

async function startOnce(options: SshdOptions): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'keysmith-sshd-'));
  // A chroot (root only: its path must be root-owned and not writable by others, so not under
  // /tmp) gives SFTP a home of its own, where a deploy to the default ~/.ssh/authorized_keys can be
  // watched without touching the real one.
  const jail = options.chroot ? mkdtempSync('/run/keysmith-chroot-') : undefined;
  const home = jail ? join(jail, userInfo().username === 'root' ? 'root' : 'home') : undefined;
  if (jail) {
    chmodSync(jail, 0o755);
    mkdirSync(home!, { mode: 0o700 });
  }
  const port = await freePort();
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  const hostKey = join(dir, 'host_ed25519');
  const newHostKey = () => {
    rmSync(hostKey, { force: true });
    rmSync(`${hostKey}.pub`, { force: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  };
  newHostKey();
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `AuthorizedKeysFile ${authorizedKeys}`,
    'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password',
    ...(options.sftp === false ? [] : ['Subsystem sftp internal-sftp']), `PidFile ${join(dir, 'sshd.pid')}`, 'LogLevel ERROR', 'MaxStartups 100:30:200',
    ...(jail ? [`ChrootDirectory ${jail}`, 'ForceCommand internal-sftp'] : []),
    ...(options.config ?? []),
  ].join('\n') + '\n');
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation needs it to exist
  } catch { /* not root: sshd runs without privilege separation */ }
  let child: ChildProcess;
  const start = async () => {
    child = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', () => undefined);
    await waitForPort(port, child);
  };
  const stop = async () => {
    if (child.exitCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await done;
  };
  await start();
  return {
    port,
    dir,
    ...(home ? { home } : {}),
    authorizedKeys,
    hostKey,
    stop: async () => {
      await stop();
      if (jail) rmSync(jail, { recursive: true, force: true });
    },
    async restart(options = {}) {
      await stop();
      if (options.newHostKey) newHostKey();
      await start();
    },
  };
}
