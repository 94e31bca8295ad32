import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';
import { childEnvironment } from '../../child-env.js';
import { KeysmithError, NotFoundError, UnavailableError, UsageError, type ErrorKind } from '../../errors.js';
import { readIfExists, withFileLock, writeFileAtomic } from '../../fs.js';
import type { Vault } from '../../vault/types.js';
import { readPrivateKey, unencryptedPem } from '../keys.js';
import { signingKey } from '../sign.js';
import { listKeys, loadKey, privateKeyPem, type ManagedKey } from '../store.js';
import { Reader, Writer } from '../wire.js';
import { Keyring, type AgentKey } from './keyring.js';
import { FORGET_EXTENSION, listenAgent, MAX_MESSAGE, STOP_EXTENSION } from './server.js';

/** Where the agent lives: its socket and its state file, in a 0700 folder of the data dir. */
export function agentPaths(dataDir: string) {
  const dir = join(dataDir, 'agent');
  return { dir, socket: join(dir, 'agent.sock'), state: join(dir, 'agent.json') };
}

/** sockaddr_un's sun_path is 108 bytes on Linux (104 on macOS), its NUL included. */
const MAX_SOCKET_PATH = 103;

/** What the agent state file says: the running agent's process and socket. */
export interface AgentState {
  pid: number;
  socket: string;
  started: string;
}

/** A key as the agent process receives it from `ssh agent start` (over a pipe, never argv or env). */
export interface AgentKeySource {
  name: string;
  /** Unencrypted OpenSSH PEM. */
  pem: string;
  comment: string;
  certificatePath?: string;
  /** Ask before each signature with it. */
  confirm?: boolean;
  /** Forget it this long after the agent starts. */
  lifetimeMs?: number;
}

/**
 * The keys `ssh agent start` serves: every vault-only key, and the named key files (`--keys`),
 * opened with their stored passphrase or `passphrase(name)`. Each is checked to sign before the agent starts.
 */
export async function agentKeySources(vault: Vault, fileKeys: string[], passphrase: (key: ManagedKey) => Promise<string>): Promise<AgentKeySource[]> {
  const chosen = (await listKeys(vault)).filter((k) => k.privateKey !== undefined);
  for (const name of fileKeys) if (!chosen.some((k) => k.name === name)) chosen.push(await loadKey(vault, name));
  const out: AgentKeySource[] = [];
  for (const key of chosen) {
    const pem = await privateKeyPem(key);
    const where = key.privateKey === undefined ? key.path : `ssh/${key.name}`;
    const secret = (await readPrivateKey(pem, where)).encrypted ? (key.passphrase ?? (await passphrase(key))) : undefined;
    const signer = await signingKey(pem, where, secret);
    out.push({ name: key.name, pem: secret === undefined ? pem : (await unencryptedPem(signer.privateKey, key.comment)).pem, comment: key.comment || key.name, certificatePath: `${key.path}-cert.pub` });
  }
  return out;
}

export interface RunAgentOptions {
  keys: AgentKeySource[];
  dataDir: string;
  allowAdd: boolean;
  ask: (key: AgentKey, fingerprint: string) => Promise<boolean>;
  now: () => number;
}

export interface RunningAgent {
  socket: string;
  pid: number;
  keyring: Keyring;
  /** Resolves once the agent has stopped (SIGTERM, SIGINT, SIGHUP or stop()). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The agent's folder, made 0700 if missing, and refused unless it is a real folder (not a link)
 * of this user: a socket in a folder someone else controls could be swapped for theirs.
 */
async function ensureAgentDir(dir: string): Promise<void> {
  await mkdir(dirname(dir), { recursive: true, mode: 0o700 });
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await lstat(dir);
  const uid = process.getuid?.();
  if (st.isSymbolicLink() || !st.isDirectory()) throw new UsageError(`${dir} is not a folder of its own (a link or a file): remove it`, undefined, 'ERR_AGENT_DIR');
  if (uid !== undefined && st.uid !== uid) throw new UsageError(`${dir} belongs to another user (uid ${st.uid}): remove it`, undefined, 'ERR_AGENT_DIR');
  if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/** The socket path must fit a Unix socket address; checked before anything else happens. */
export function checkAgentPaths(dataDir: string): ReturnType<typeof agentPaths> {
  const paths = agentPaths(dataDir);
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) throw new UsageError(`the agent socket path is too long for a Unix socket (${Buffer.byteLength(paths.socket)} bytes, at most ${MAX_SOCKET_PATH}): set KEYSMITH_HOME to a shorter folder`, undefined, 'ERR_AGENT_SOCKET_PATH');
  return paths;
}

/**
 * Serves the keys on the agent socket until a signal, the stop extension or stop(): the socket
 * 0600 in a 0700 folder, a state file for `status`, both removed on the way out. Starting holds a
 * lock from the check that no agent answers to the state file, so of two starts one serves and
 * the other is refused (ERR_AGENT_RUNNING).
 * @example const agent = await runAgent({ keys, dataDir, allowAdd: false, ask, now: Date.now })
 */
export async function runAgent(o: RunAgentOptions): Promise<RunningAgent> {
  const paths = checkAgentPaths(o.dataDir);
  await ensureAgentDir(paths.dir);
  const keys: AgentKey[] = [];
  for (const k of o.keys) {
    keys.push({
      name: k.name, comment: k.comment, signer: await signingKey(k.pem, `ssh/${k.name}`), confirm: k.confirm ?? false,
      ...(k.certificatePath ? { certificatePath: k.certificatePath } : {}),
      ...(k.lifetimeMs !== undefined ? { expiresAt: o.now() + k.lifetimeMs } : {}),
    });
  }
  const keyring = new Keyring(keys, { allowAdd: o.allowAdd, confirm: o.ask, now: o.now });
  let stop!: () => Promise<void>;
  const server = await withFileLock(paths.socket, async () => {
    await refuseRunning(o.dataDir);
    await rm(paths.socket, { force: true });
    const listening = await listenAgent(keyring, paths.socket, { onStop: () => void stop() });
    await writeFileAtomic(paths.state, JSON.stringify({ pid: process.pid, socket: paths.socket, started: new Date(o.now()).toISOString() } satisfies AgentState), { overwrite: true });
    return listening;
  });
  let done!: () => void;
  const stopped = new Promise<void>((r) => (done = r));
  let stopping: Promise<void> | undefined;
  stop = () => (stopping ??= (async () => {
    keyring.forget();
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.off(s, stop);
    await server.close();
    await rm(paths.socket, { force: true });
    const state = await readState(o.dataDir);
    if (state?.pid === process.pid) await rm(paths.state, { force: true });
    done();
  })());
  for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(s, stop);
  return { socket: paths.socket, pid: process.pid, keyring, stopped, stop };
}

/** An agent answering on the socket already: one per data folder. */
export async function refuseRunning(dataDir: string): Promise<void> {
  const { socket } = checkAgentPaths(dataDir);
  if (await reachable(socket)) {
    const running = await readState(dataDir);
    throw new UsageError(`an agent is already running${running ? ` (pid ${running.pid})` : ''} on ${socket}`, { hint: 'stop it first' }, 'ERR_AGENT_RUNNING');
  }
}

async function readState(dataDir: string): Promise<AgentState | undefined> {
  const text = await readIfExists(agentPaths(dataDir).state);
  if (!text) return undefined;
  try {
    return JSON.parse(text.toString('utf8')) as AgentState;
  } catch {
    return undefined;
  }
}

/** One request to an agent socket and its reply (the message without its length). */
export function agentRequest(socket: string, message: Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => c.destroy(new Error('the agent did not answer')), timeoutMs);
    c.on('connect', () => c.write(new Writer().string(message).bytes()));
    c.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        clearTimeout(timer);
        c.end();
        if (got.readUInt32BE(0) > MAX_MESSAGE) return reject(new Error('the agent answered too much'));
        resolve(got.subarray(4, 4 + got.readUInt32BE(0)));
      }
    });
    c.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    c.on('close', () => {
      clearTimeout(timer);
      reject(new Error('the agent closed the connection'));
    });
  });
}

const reachable = (socket: string) => agentRequest(socket, Buffer.from([11]), 2000).then(() => true, () => false);

/** How many identities an agent lists. */
async function listed(socket: string): Promise<number> {
  const r = new Reader(await agentRequest(socket, Buffer.from([11])), 'the answer');
  if (r.byte() !== 12) throw new Error('not an identities answer');
  return r.uint32();
}

export interface AgentStatus {
  running: boolean;
  pid?: number;
  socket?: string;
  started?: string;
  /** Identities listed (a key and its certificate count as two, as ssh-add -l shows them). */
  identities?: number;
}

/** Whether keysmith's agent runs, and what it lists. */
export async function agentStatus(dataDir: string): Promise<AgentStatus> {
  const state = await readState(dataDir);
  if (!state) return { running: false };
  try {
    return { running: true, ...state, identities: await listed(state.socket) };
  } catch {
    return { running: false };
  }
}

/** Makes a running agent forget every key (`keysmith vault lock`); false when no agent answers. */
export async function forgetAgentKeys(dataDir: string): Promise<boolean> {
  try {
    const reply = await agentRequest(agentPaths(dataDir).socket, new Writer().raw(Buffer.from([27])).string(FORGET_EXTENSION).bytes());
    return reply[0] === 6;
  } catch {
    return false;
  }
}

/**
 * Stops the running agent: asked over its own socket (the stop extension), it forgets its keys,
 * closes every connection and exits. No pid from a file is ever signalled.
 */
export async function stopAgent(dataDir: string): Promise<AgentState> {
  const state = await readState(dataDir);
  const socket = agentPaths(dataDir).socket;
  const reply = await agentRequest(socket, new Writer().raw(Buffer.from([27])).string(STOP_EXTENSION).bytes()).catch(() => undefined);
  if (reply?.[0] !== 6) {
    if (!reply) await rm(agentPaths(dataDir).state, { force: true });
    throw new NotFoundError('no keysmith agent is running', undefined, 'ERR_AGENT_NOT_RUNNING');
  }
  for (let i = 0; i < 100 && (await reachable(socket)); i++) await new Promise((r) => setTimeout(r, 50));
  return state ?? { pid: 0, socket, started: '' };
}

/** What the background agent says on its channel once: it serves, or why it could not. */
export type AgentReady = { ready: AgentState } | { error: string; kind: ErrorKind };

/**
 * Starts the agent as a background process, detached as ssh-agent detaches: its own session, `/`
 * as its folder, /dev/null as its stdin, stdout and stderr. The keys go to it over a private
 * channel (fd 3), never argv, environment or disk, and it answers on the same channel; its
 * environment has no KEYSMITH_* variable at all.
 */
export async function spawnAgent(command: string[], env: NodeJS.ProcessEnv, payload: string, timeoutMs = 30_000): Promise<AgentState> {
  const child = spawn(command[0]!, command.slice(1), { env: childEnvironment(env), cwd: '/', detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const channel = child.stdio[3] as Duplex;
  let said = '';
  channel.on('error', () => undefined);
  channel.on('data', (d: Buffer) => (said += d.toString('utf8')));
  channel.write(payload);
  const answer = await new Promise<AgentReady | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    const settle = () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(said.split('\n')[0]!) as AgentReady);
      } catch {
        resolve(undefined);
      }
    };
    channel.on('data', () => said.includes('\n') && settle());
    channel.on('end', settle);
    child.on('error', () => resolve(undefined));
  });
  channel.destroy();
  if (!answer || 'error' in answer) {
    if (!answer) child.kill('SIGKILL');
    if (answer) throw new KeysmithError(answer.kind, 'ERR_AGENT_START', answer.error);
    throw new UnavailableError('the agent did not start', undefined, 'ERR_AGENT_START');
  }
  child.unref();
  return answer.ready;
}
