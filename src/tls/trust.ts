import { execFile } from 'node:child_process';
import { childEnvironment } from '../child-env.js';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AuthError, UnavailableError, UsageError } from '../errors.js';
import { exists } from '../fs.js';

const execFileAsync = promisify(execFile);
/** update-ca-certificates, certutil and friends get no KEYSMITH_* credential. */
const run = (command: string, args: string[]) => execFileAsync(command, args, { env: childEnvironment(process.env) });

/** Where a CA certificate was (or was not) added or removed. */
export interface TrustOutcome {
  store: string;
  location: string;
  changed: boolean;
}

interface Store {
  name: 'system' | 'nss';
  /** Locations this store would change here; empty when it is not present. */
  locations(): Promise<string[]>;
  add(location: string, caName: string, pem: string): Promise<boolean>;
  remove(location: string, caName: string): Promise<boolean>;
}

const nickname = (caName: string) => `keysmith ${caName} CA`;
const fileName = (caName: string) => `keysmith-${caName}`;

async function has(command: string): Promise<boolean> {
  return run('sh', ['-c', `command -v ${command}`]).then(() => true, () => false);
}

async function exec(command: string, args: string[]): Promise<string> {
  try {
    return (await run(command, args)).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const detail = (e.stderr || e.message).trim().split('\n').slice(-1)[0];
    if (/permission denied|not permitted|access is denied|authorization/i.test(`${e.stderr} ${e.message}`)) {
      throw new AuthError(`${command}: ${detail}`, { hint: 'the system trust store needs administrator rights: run again with sudo' }, 'ERR_TLS_TRUST_DENIED');
    }
    throw new UnavailableError(`${command} failed: ${detail}`, { cause: err }, 'ERR_TLS_TRUST_FAILED');
  }
}

/** Writes into the system store's folder, turning EACCES into "run with sudo". */
async function writeAnchor(path: string, pem: string): Promise<void> {
  try {
    await writeFile(path, pem, { mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES' || (err as NodeJS.ErrnoException).code === 'EPERM') {
      throw new AuthError(`cannot write ${path}`, { hint: 'the system trust store needs administrator rights: run again with sudo' }, 'ERR_TLS_TRUST_DENIED');
    }
    throw err;
  }
}

/**
 * The OS store: Debian/Ubuntu (update-ca-certificates), Fedora/RHEL (update-ca-trust), macOS
 * (security), Windows (certutil). `root` prefixes every Linux path (a staging root, as in tests).
 */
function systemStore(root: string | undefined): Store {
  const r = (p: string) => (root ? join(root, p) : p);
  const debianDir = r('/usr/local/share/ca-certificates');
  const fedoraDir = r('/etc/pki/ca-trust/source/anchors');
  const debianArgs = root
    ? ['--certsconf', r('/etc/ca-certificates.conf'), '--certsdir', r('/usr/share/ca-certificates'), '--localcertsdir', debianDir, '--etccertsdir', r('/etc/ssl/certs'), '--hooksdir', r('/etc/ca-certificates/update.d')]
    : [];
  return {
    name: 'system',
    async locations() {
      if (process.platform === 'darwin') return ['/Library/Keychains/System.keychain'];
      if (process.platform === 'win32') return ['Windows ROOT store'];
      if (await has('update-ca-certificates')) return [debianDir];
      if (await has('update-ca-trust')) return [fedoraDir];
      return [];
    },
    async add(location, caName, pem) {
      if (process.platform === 'darwin' || process.platform === 'win32') {
        const file = join(tmpdir(), `${fileName(caName)}.pem`);
        await writeFile(file, pem);
        try {
          if (process.platform === 'darwin') await exec('security', ['add-trusted-cert', '-d', '-r', 'trustRoot', '-k', location, file]);
          else await exec('certutil', ['-addstore', '-f', 'ROOT', file]);
        } finally {
          await rm(file, { force: true });
        }
        return true;
      }
      const debian = location === debianDir;
      const path = join(location, `${fileName(caName)}${debian ? '.crt' : '.pem'}`);
      await mkdir(location, { recursive: true }).catch(() => undefined);
      await writeAnchor(path, pem);
      if (debian) await exec('update-ca-certificates', debianArgs);
      else await exec('update-ca-trust', ['extract']);
      return true;
    },
    async remove(location, caName) {
      if (process.platform === 'darwin') {
        await exec('security', ['delete-certificate', '-c', nickname(caName), location]).catch(() => undefined);
        return true;
      }
      if (process.platform === 'win32') {
        await exec('certutil', ['-delstore', 'ROOT', nickname(caName)]).catch(() => undefined);
        return true;
      }
      const debian = location === debianDir;
      const path = join(location, `${fileName(caName)}${debian ? '.crt' : '.pem'}`);
      if (!(await exists(path))) return false;
      await rm(path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'EACCES' || err.code === 'EPERM') throw new AuthError(`cannot remove ${path}`, { hint: 'run again with sudo' }, 'ERR_TLS_TRUST_DENIED');
        throw err;
      });
      if (debian) await exec('update-ca-certificates', ['--fresh', ...debianArgs]);
      else await exec('update-ca-trust', ['extract']);
      return true;
    },
  };
}

/** NSS databases (Chrome/Chromium on Linux, Firefox profiles), through NSS's certutil, as mkcert does. */
function nssStore(home: string): Store {
  return {
    name: 'nss',
    async locations() {
      if (process.platform === 'win32' || !(await has('certutil')) || (process.platform === 'darwin' && !(await has('pk12util')))) return [];
      const dbs: string[] = [];
      if (await exists(join(home, '.pki/nssdb/cert9.db'))) dbs.push(join(home, '.pki/nssdb'));
      for (const base of [join(home, '.mozilla/firefox'), join(home, 'snap/firefox/common/.mozilla/firefox'), join(home, 'Library/Application Support/Firefox/Profiles')]) {
        for (const profile of await readdir(base).catch(() => [] as string[])) {
          if (await exists(join(base, profile, 'cert9.db'))) dbs.push(join(base, profile));
        }
      }
      return dbs;
    },
    async add(location, caName, pem) {
      const file = join(tmpdir(), `${fileName(caName)}-${process.pid}.pem`);
      await writeFile(file, pem);
      try {
        await exec('certutil', ['-A', '-d', `sql:${location}`, '-t', 'C,,', '-n', nickname(caName), '-i', file]);
      } finally {
        await rm(file, { force: true });
      }
      return true;
    },
    async remove(location, caName) {
      const listed = await exec('certutil', ['-L', '-d', `sql:${location}`]);
      if (!listed.includes(nickname(caName))) return false;
      await exec('certutil', ['-D', '-d', `sql:${location}`, '-n', nickname(caName)]);
      return true;
    },
  };
}

export type StoreChoice = 'system' | 'nss' | 'all';

function stores(choice: StoreChoice, env: NodeJS.ProcessEnv): Store[] {
  const all = [systemStore(env.KEYSMITH_TRUST_ROOT), nssStore(env.HOME || homedir())];
  return choice === 'all' ? all : all.filter((s) => s.name === choice);
}

/**
 * Adds (or with `remove`, takes away) a CA certificate in the OS trust store and NSS databases.
 * @example await changeTrust('dev', pem, 'all', process.env, 'add')
 */
export async function changeTrust(caName: string, pem: string, choice: StoreChoice, env: NodeJS.ProcessEnv, action: 'add' | 'remove'): Promise<TrustOutcome[]> {
  const outcomes: TrustOutcome[] = [];
  for (const store of stores(choice, env)) {
    for (const location of await store.locations()) {
      const changed = action === 'add' ? await store.add(location, caName, pem) : await store.remove(location, caName);
      outcomes.push({ store: store.name, location, changed });
    }
  }
  if (outcomes.length === 0) {
    throw new UsageError(`no trust store found for ${choice} on this system`, {
      detail: { kind: 'no-trust-store', store: choice },
      hint: process.platform === 'linux' ? 'install ca-certificates (update-ca-certificates) or libnss3-tools (certutil)' : undefined,
    }, 'ERR_TLS_NO_TRUST_STORE');
  }
  return outcomes;
}
