import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exited, freePorts, launch, uidOf, withRetries, type Credentials, type TestServer } from './mail-servers.js';

/**
 * Where Debian keeps the server programs (`/usr/lib/postgresql/<major>/bin`, not on PATH); the
 * newest major wins. Falls back to bare names, found on PATH or reported missing.
 */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  majors.sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], 'bin') : '';
}

const BIN = postgresBin();
const program = (name: string) => (BIN ? join(BIN, name) : name);
const isRoot = process.getuid?.() === 0;

/** The programs {@link startPostgres} needs, for `describeWith`. */
export const POSTGRES_TOOLS = [program('initdb'), program('postgres'), ...(isRoot ? ['runuser'] : [])];

/** postgres refuses to run as root: as root, run it as the `postgres` user. */
const asPostgres = (command: string, args: string[]): [string, string[]] => (isRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args]);

/**
 * A real PostgreSQL on 127.0.0.1 with `ssl=on` and the given certificate: a fresh cluster in a
 * temp dir (initdb), its unix socket there too, nobody allowed to log in.
 */
export function startPostgres(credentials: Credentials): Promise<TestServer<'postgres'>> {
  return withRetries(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keysmith-postgres-'));
    const cleanup = () => rmSync(dir, { recursive: true, force: true });
    try {
      writeFileSync(join(dir, 'cert.pem'), credentials.cert);
      // The server refuses a key others can read, and must own it (or root with group access).
      writeFileSync(join(dir, 'key.pem'), credentials.key, { mode: 0o600 });
      if (isRoot) {
        const uid = uidOf('postgres');
        for (const f of ['', 'cert.pem', 'key.pem']) chownSync(join(dir, f), uid, -1);
      }
      const data = join(dir, 'data');
      const [cmd, args] = asPostgres(program('initdb'), ['-D', data, '--auth=reject', '-U', 'postgres', '--no-sync', '--no-instructions', '--no-locale', '-E', 'UTF8']);
      await promisify(execFile)(cmd, args).catch((err: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`initdb failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      });
      const [port] = (await freePorts(1)) as [number];
      const settings = {
        listen_addresses: '127.0.0.1',
        port: String(port),
        unix_socket_directories: dir,
        ssl: 'on',
        ssl_cert_file: join(dir, 'cert.pem'),
        ssl_key_file: join(dir, 'key.pem'),
        fsync: 'off',
        max_connections: '10',
      };
      const [pgCmd, pgArgs] = asPostgres(program('postgres'), ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])]);
      const started = await launch('postgres', pgCmd, pgArgs, { ports: [port], greets: false, logFile: join(dir, 'postgres.log') });
      return {
        ports: { postgres: port },
        dir,
        log: started.log,
        async stop() {
          // SIGINT is the fast shutdown; sent to postmaster itself, not through runuser.
          try {
            process.kill(Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGINT');
          } catch {
            started.child.kill('SIGTERM');
          }
          if (!(await exited(started.child, 10_000))) started.child.kill('SIGKILL');
          cleanup();
        },
      };
    } catch (err) {
      cleanup();
      throw err;
    }
  });
}
