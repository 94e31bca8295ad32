import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Option, type Command } from 'commander';
import { childEnvironment } from '../../../../child-env.js';
import { parseDuration } from '../../../../duration.js';
import { KeysmithError, UsageError } from '../../../../errors.js';
import { agentKeySources, refuseRunning, runAgent, spawnAgent, type AgentKeySource, type AgentReady, type AgentState } from '../../../../ssh/agent/agent.js';
import type { AgentKey } from '../../../../ssh/agent/keyring.js';
import type { Context, ContextFor } from '../../../context.js';

interface StartFlags {
  foreground: boolean;
  keys?: string;
  confirm: boolean | string;
  lifetime?: string;
  allowAdd: boolean;
  daemon: boolean;
}

/** What `start` hands the background agent over its private channel (fd 3). */
interface Payload {
  keys: AgentKeySource[];
  allowAdd: boolean;
  /** Absolute: the agent runs in / and without KEYSMITH_HOME. */
  dataDir: string;
}

/**
 * Per key: `--confirm` (all keys) or `--confirm a,b`; `--lifetime 8h` (all keys), or
 * `--lifetime a=8h,b=1h` with an optional bare default (`--lifetime 1h,ci=10m`).
 */
function perKey(keys: AgentKeySource[], confirm: boolean | string, lifetime: string | undefined): AgentKeySource[] {
  const names = new Set(keys.map((k) => k.name));
  const known = (name: string, flag: string) => {
    if (!names.has(name)) throw new UsageError(`${flag}: ${name} is not a key the agent serves (${[...names].join(', ') || 'none'})`);
    return name;
  };
  const confirmed = typeof confirm === 'string' ? new Set(confirm.split(',').map((n) => known(n.trim(), '--confirm'))) : undefined;
  let fallback: number | undefined;
  const lifetimes = new Map<string, number>();
  for (const item of lifetime ? lifetime.split(',') : []) {
    const eq = item.indexOf('=');
    if (eq < 0) fallback = parseDuration(item, '--lifetime');
    else lifetimes.set(known(item.slice(0, eq).trim(), '--lifetime'), parseDuration(item.slice(eq + 1), '--lifetime'));
  }
  return keys.map((k) => {
    const ms = lifetimes.get(k.name) ?? fallback;
    return { ...k, confirm: confirmed ? confirmed.has(k.name) : confirm === true, ...(ms !== undefined ? { lifetimeMs: ms } : {}) };
  });
}

/**
 * The confirmation before a signature: SSH_ASKPASS as ssh-agent runs it (SSH_ASKPASS_PROMPT=confirm;
 * exit 0 with an empty answer or "yes" allows), else the terminal of a foreground agent. One question at a time.
 */
function asker(ctx: Context, terminal: boolean): (key: AgentKey, fingerprint: string) => Promise<boolean> {
  let queue = Promise.resolve(true);
  const askpass = ctx.env.SSH_ASKPASS;
  const ask = async (key: AgentKey, fingerprint: string): Promise<boolean> => {
    const prompt = `Allow use of key ${key.name}?\nKey fingerprint ${fingerprint}.`;
    if (askpass) {
      return new Promise((resolve) => {
        const child = spawn(askpass, [prompt], { env: { ...childEnvironment(ctx.env), SSH_ASKPASS_PROMPT: 'confirm' }, stdio: ['ignore', 'pipe', 'ignore'] });
        let answer = '';
        child.stdout.on('data', (d: Buffer) => (answer += d.toString('utf8')));
        child.on('error', () => resolve(false));
        child.on('close', (code) => resolve(code === 0 && ['', 'yes'].includes(answer.trim().toLowerCase())));
      });
    }
    if (!terminal) return false;
    const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
    try {
      return /^y(es)?$/i.test((await rl.question(`${prompt} [y/N] `)).trim());
    } finally {
      rl.close();
    }
  };
  return (key, fingerprint) => (queue = queue.then(() => ask(key, fingerprint), () => ask(key, fingerprint)));
}

const shellLines = (s: AgentState) => `SSH_AUTH_SOCK=${s.socket}; export SSH_AUTH_SOCK;\nSSH_AGENT_PID=${s.pid}; export SSH_AGENT_PID;\n`;

/**
 * The background agent (started by `start` with the hidden --daemon): its keys and settings come
 * over fd 3, and it answers there once — serving, or the error — then closes it.
 */
async function serveInBackground(ctx: Context): Promise<void> {
  const channel = new Socket({ fd: 3, readable: true, writable: true });
  channel.on('error', () => undefined);
  // Said once, then the channel is closed for good: nothing of it keeps the agent alive after a stop.
  const say = (what: AgentReady) => new Promise<void>((r) => channel.end(`${JSON.stringify(what)}\n`, () => r())).finally(() => channel.destroy());
  const payload = await new Promise<string>((resolve) => {
    let got = '';
    const take = (chunk: Buffer) => {
      got += chunk.toString('utf8');
      if (!got.includes('\n')) return;
      channel.off('data', take).pause();
      resolve(got);
    };
    channel.on('data', take).once('end', () => resolve(got));
  });
  let agent;
  try {
    const p = JSON.parse(payload) as Payload;
    agent = await runAgent({ ...p, ask: asker(ctx, false), now: () => ctx.now().getTime() });
  } catch (err) {
    await say({ error: (err as Error).message, kind: err instanceof KeysmithError ? err.kind : 'failed' });
    throw err;
  }
  await say({ ready: { pid: agent.pid, socket: agent.socket, started: ctx.now().toISOString() } });
  return agent.stopped;
}

export default function agentStartCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .option('--foreground', 'stay in the foreground (Ctrl-C stops it); --confirm can then ask on this terminal', false)
    .option('--keys <names>', 'also serve these managed key files (comma-separated); their passphrases are asked for now')
    .option('--confirm [keys]', 'ask before every signature, with every key or these (SSH_ASKPASS, or the terminal with --foreground)', false)
    .option('--lifetime <duration>', 'forget the keys after this long: 8h, or per key work=8h,ci=10m')
    .option('--allow-add', 'let clients add and remove keys (ssh-add, ssh-add -d/-D); refused otherwise', false)
    .addOption(new Option('--daemon').default(false).hideHelp())
    .addHelpText('after', `
It serves every --vault-only key (keysmith ssh keygen NAME --vault-only, keysmith ssh import PATH
--vault-only), with the certificate in KEY-cert.pub beside its public key when there is one. The
socket is agent/agent.sock in keysmith's data folder (0600, in a 0700 folder). The keys live in the
agent's memory only; it signs and never hands a private key out. \`keysmith vault lock\` and
\`keysmith ssh agent stop\` make it forget them.

Examples:
  $ eval "$(keysmith ssh agent start)"
  $ ssh-add -l
  $ ssh -o IdentityAgent="$SSH_AUTH_SOCK" deploy@web1
  $ git -c gpg.format=ssh -c user.signingkey="$(cat ~/.ssh/work.pub)" commit -S -m signed
  $ SSH_ASKPASS=/usr/bin/ssh-askpass keysmith ssh agent start --confirm --lifetime 8h
  $ keysmith ssh agent start --keys deploy --confirm deploy --lifetime 8h,deploy=15m`)
    .action(async (flags: StartFlags, command: Command) => {
      const ctx = contextFor(command);
      if (flags.daemon) return serveInBackground(ctx);
      const terminal = flags.foreground && ctx.canPrompt();
      if (flags.confirm && !ctx.env.SSH_ASKPASS && !terminal) {
        throw new UsageError('--confirm needs a way to ask: set SSH_ASKPASS to an askpass program, or run --foreground in a terminal', undefined, 'ERR_AGENT_NO_ASK');
      }
      await refuseRunning(ctx.paths.data); // and the socket path fits, before the vault is opened
      const { vault } = await ctx.openVault();
      const fileKeys = flags.keys ? flags.keys.split(',').map((k) => k.trim()).filter(Boolean) : [];
      const keys = await agentKeySources(vault, fileKeys, (key) => ctx.askSecret(`Passphrase for ${key.path}`, { instead: `--store-passphrase when the key is made, or a vault-only key` }));
      if (keys.length === 0 && !flags.allowAdd) {
        throw new UsageError('no keys to serve: the vault holds no --vault-only key', { hint: 'keysmith ssh keygen NAME --vault-only, keysmith ssh import PATH --vault-only, or --keys NAME' }, 'ERR_AGENT_NO_KEYS');
      }
      const payload: Payload = { keys: perKey(keys, flags.confirm, flags.lifetime), allowAdd: flags.allowAdd, dataDir: resolve(ctx.paths.data) };
      const served = `serving ${keys.length} key(s): ${keys.map((k) => k.name).join(', ') || '-'}`;
      if (flags.foreground) {
        const agent = await runAgent({ ...payload, ask: asker(ctx, terminal), now: () => ctx.now().getTime() });
        if (ctx.flags.json) await ctx.json({ pid: agent.pid, socket: agent.socket, keys: keys.map((k) => k.name) });
        else await ctx.out(shellLines({ pid: agent.pid, socket: agent.socket, started: '' }));
        await ctx.status(`${served}; Ctrl-C stops it`);
        return agent.stopped;
      }
      const state = await spawnAgent([process.execPath, resolve(process.argv[1]!), 'ssh', 'agent', 'start', '--daemon'], ctx.env, `${JSON.stringify(payload)}\n`);
      if (ctx.flags.json) return ctx.json({ ...state, keys: keys.map((k) => k.name) });
      await ctx.out(shellLines(state));
      await ctx.status(`agent pid ${state.pid}, ${served}`);
    });
}
