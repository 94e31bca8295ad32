import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server certificate chain (leaf first) and its key, as PEM: what `serverCredentials` gives. */
export interface Credentials {
  cert: string;
  key: string;
}

/** A real server the tests started on 127.0.0.1: its ports, its log so far, and how to stop it. */
export interface TestServer<Port extends string> {
  ports: Record<Port, number>;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** `count` distinct free ports on 127.0.0.1 (held open together, so no two are the same). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
  }
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Whether the port accepts a connection and, when `greets`, the server says something first. */
function answers(port: number, greets: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      c.destroy();
      resolve(ok);
    };
    c.setTimeout(1000, () => done(false));
    c.once('error', () => done(false));
    c.once(greets ? 'data' : 'connect', () => done(true));
  });
}

/** Resolves when the process has exited; false if it is still running after `ms`. */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Spawns a server that stays in the foreground, its output going to `logFile`, and resolves once
 * every port answers. When the server exits or is not ready within 15 s, kills it and throws with
 * its log. The output goes to a file, not a pipe: Node's stdio "pipes" are socketpairs, which
 * `/dev/stdout` cannot be opened on (Postfix's maillog_file fails with ENXIO).
 */
export async function launch(name: string, command: string, args: string[], ready: { ports: number[]; greets: boolean; logFile: string }) {
  const fd = openSync(ready.logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let spawnError = '';
  child.on('error', (err) => void (spawnError = err.message));
  const log = () => {
    const text = existsSync(ready.logFile) ? readFileSync(ready.logFile, 'utf8') : '';
    return text.slice(-20_000) + spawnError;
  };
  const deadline = Date.now() + 15_000;
  for (const port of ready.ports) {
    while (!(await answers(port, ready.greets))) {
      if (child.exitCode !== null || child.signalCode !== null || spawnError || Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited(child, 2000);
        throw new Error(`${name} did not start (${child.exitCode ?? child.signalCode ?? `no answer on port ${port}`}):\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { child, log };
}

/** Tries `start` up to three times: a free port can be taken by a parallel test before the server binds it. */
export async function withRetries<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

export const uidOf = (user: string) => Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());

/** A private temp dir holding the server's certificate chain and key (root-readable only). */
function serverDir(prefix: string, credentials: Credentials) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'cert.pem'), credentials.cert);
  writeFileSync(join(dir, 'key.pem'), credentials.key, { mode: 0o600 });
  return dir;
}

/**
 * A real Postfix on 127.0.0.1, from a private config and queue in a temp dir: `smtp` offers
 * STARTTLS, `submission` requires it (587-style), `plain` does not offer it. Needs root.
 */
export function startPostfix(credentials: Credentials): Promise<TestServer<'smtp' | 'submission' | 'plain'>> {
  return withRetries(async () => {
    const dir = serverDir('keysmith-postfix-', credentials);
    // master opens data_directory/master.lock as the postfix user: the temp dir must be traversable.
    chmodSync(dir, 0o755);
    const conf = join(dir, 'conf');
    mkdirSync(conf);
    mkdirSync(join(dir, 'queue'));
    mkdirSync(join(dir, 'data'));
    chownSync(join(dir, 'data'), uidOf('postfix'), 0);
    const [smtp, submission, plain] = (await freePorts(3)) as [number, number, number];
    writeFileSync(
      join(conf, 'main.cf'),
      [
        'compatibility_level = 3.6',
        `queue_directory = ${dir}/queue`,
        `data_directory = ${dir}/data`,
        'mail_owner = postfix',
        'setgid_group = postdrop',
        'myhostname = mail.example.test',
        'mydestination =',
        'alias_maps =',
        'alias_database =',
        'inet_interfaces = 127.0.0.1',
        'inet_protocols = ipv4',
        // Without a TTY Postfix logs to syslog only; this makes postlogd write to our log file.
        'maillog_file = /dev/stdout',
        `smtpd_tls_cert_file = ${dir}/cert.pem`,
        `smtpd_tls_key_file = ${dir}/key.pem`,
        'smtpd_tls_security_level = may',
        '',
      ].join('\n'),
    );
    const service = (name: string, type: string, priv: string, wakeup: string, limit: string, command: string) =>
      `${name} ${type} ${priv} - n ${wakeup} ${limit} ${command}`;
    writeFileSync(
      join(conf, 'master.cf'),
      [
        service(`127.0.0.1:${smtp}`, 'inet', 'n', '-', '-', 'smtpd'),
        service(`127.0.0.1:${submission}`, 'inet', 'n', '-', '-', 'smtpd -o smtpd_tls_security_level=encrypt'),
        service(`127.0.0.1:${plain}`, 'inet', 'n', '-', '-', 'smtpd -o smtpd_tls_security_level=none'),
        // The internal services smtpd talks to (as in the stock master.cf, without chroot).
        service('pickup', 'unix', 'n', '60', '1', 'pickup'),
        service('cleanup', 'unix', 'n', '-', '0', 'cleanup'),
        service('qmgr', 'unix', 'n', '300', '1', 'qmgr'),
        service('tlsmgr', 'unix', '-', '1000?', '1', 'tlsmgr'),
        service('rewrite', 'unix', '-', '-', '-', 'trivial-rewrite'),
        service('bounce', 'unix', '-', '-', '0', 'bounce'),
        service('defer', 'unix', '-', '-', '0', 'bounce'),
        service('trace', 'unix', '-', '-', '0', 'bounce'),
        service('verify', 'unix', '-', '-', '1', 'verify'),
        service('flush', 'unix', 'n', '1000?', '0', 'flush'),
        service('proxymap', 'unix', '-', '-', '-', 'proxymap'),
        service('proxywrite', 'unix', '-', '-', '1', 'proxymap'),
        service('smtp', 'unix', '-', '-', '-', 'smtp'),
        service('relay', 'unix', '-', '-', '-', 'smtp'),
        service('showq', 'unix', 'n', '-', '-', 'showq'),
        service('error', 'unix', '-', '-', '-', 'error'),
        service('retry', 'unix', '-', '-', '-', 'error'),
        service('discard', 'unix', '-', '-', '-', 'discard'),
        service('local', 'unix', '-', '-', '-', 'local'),
        service('anvil', 'unix', '-', '-', '1', 'anvil'),
        service('scache', 'unix', '-', '-', '1', 'scache'),
        service('postlog', 'unix-dgram', 'n', '-', '1', 'postlogd'),
        '',
      ].join('\n'),
    );
    // Postfix rereads a config file written in the last two seconds, in 300 ms naps, before it
    // trusts it (about 2 s per start): backdating the files skips the wait.
    const past = new Date(Date.now() - 60_000);
    for (const file of ['main.cf', 'master.cf']) utimesSync(join(conf, file), past, past);
    // start-fg keeps master in the foreground (under postfix-script), logging to its stdout.
    const started = await launch('postfix', 'postfix', ['-c', conf, 'start-fg'], { ports: [smtp, submission, plain], greets: true, logFile: join(dir, 'postfix.log') }).catch((err) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    });
    return {
      ports: { smtp, submission, plain },
      dir,
      log: started.log,
      async stop() {
        // What `postfix stop` does, without its one-second poll: SIGTERM to master, which stops
        // its children; postfix-script (our child) returns when master has gone.
        const signal = (pid: number, sig: NodeJS.Signals) => {
          try {
            process.kill(pid, sig);
          } catch {
            // gone already
          }
        };
        const pidFile = join(dir, 'queue', 'pid', 'master.pid');
        const master = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
        if (master > 0) signal(master, 'SIGTERM');
        if (!(await exited(started.child, 10_000))) {
          if (master > 0) signal(-master, 'SIGKILL'); // master leads its own process group, as `postfix stop` knows
          started.child.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

/**
 * A real Dovecot on 127.0.0.1 from a private config (own base_dir, state_dir, log on stderr):
 * `imap` and `pop3` offer STARTTLS, `imaps` and `pop3s` are implicit TLS. Needs root.
 */
export function startDovecot(credentials: Credentials): Promise<TestServer<'imap' | 'imaps' | 'pop3' | 'pop3s'>> {
  return withRetries(async () => {
    const dir = serverDir('keysmith-dovecot-', credentials);
    const [imap, imaps, pop3, pop3s] = (await freePorts(4)) as [number, number, number, number];
    const config = join(dir, 'dovecot.conf');
    writeFileSync(
      config,
      `base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = /dev/stderr
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
# Nobody can log in: the tests only need the TLS handshake.
passdb {
  driver = passwd-file
  args = ${dir}/no-users
}
userdb {
  driver = passwd-file
  args = ${dir}/no-users
}
service imap-login {
  inet_listener imap {
    port = ${imap}
  }
  inet_listener imaps {
    port = ${imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = ${pop3}
  }
  inet_listener pop3s {
    port = ${pop3s}
    ssl = yes
  }
}
`,
    );
    writeFileSync(join(dir, 'no-users'), '');
    // The implicit-TLS ports send nothing in plaintext: wait for the greeting on the STARTTLS ones only.
    const started = await launch('dovecot', 'dovecot', ['-F', '-c', config], { ports: [imap, pop3], greets: true, logFile: join(dir, 'dovecot.log') }).catch((err) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    });
    return {
      ports: { imap, imaps, pop3, pop3s },
      dir,
      log: started.log,
      async stop() {
        started.child.kill('SIGTERM');
        if (!(await exited(started.child, 10_000))) started.child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
