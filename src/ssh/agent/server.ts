import { chmod } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { privateFields } from '../keys.js';
import { Reader, Writer } from '../wire.js';
import type { Keyring } from './keyring.js';

/** Message numbers of draft-miller-ssh-agent (and OpenSSH's PROTOCOL.agent). */
const MSG = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
  ADD_IDENTITY: 17,
  REMOVE_IDENTITY: 18,
  REMOVE_ALL_IDENTITIES: 19,
  LOCK: 22,
  UNLOCK: 23,
  ADD_ID_CONSTRAINED: 25,
  EXTENSION: 27,
} as const;

const CONSTRAIN_LIFETIME = 1;
const CONSTRAIN_CONFIRM = 2;

/** OpenSSH's AGENT_MAX_LEN: a longer message closes the connection, as ssh-agent does. */
export const MAX_MESSAGE = 256 * 1024;

/** keysmith's own extensions: forget every key (sent by `keysmith vault lock`), and stop (`keysmith ssh agent stop`). */
export const FORGET_EXTENSION = 'forget@keysmith';
export const STOP_EXTENSION = 'stop@keysmith';

const status = (ok: boolean) => Buffer.from([ok ? MSG.SUCCESS : MSG.FAILURE]);

/**
 * Answers one request (the message without its length). Anything malformed, unknown or refused is
 * SSH_AGENT_FAILURE: a request never throws out of here.
 */
export async function answer(keyring: Keyring, message: Buffer): Promise<Buffer> {
  try {
    const r = new Reader(message, 'the request');
    const type = r.byte();
    switch (type) {
      case MSG.REQUEST_IDENTITIES: {
        r.end();
        const ids = await keyring.identities();
        const w = new Writer().raw(Buffer.from([MSG.IDENTITIES_ANSWER])).uint32(ids.length);
        for (const id of ids) w.string(id.blob).string(id.comment);
        return w.bytes();
      }
      case MSG.SIGN_REQUEST: {
        const blob = r.string();
        const data = r.string();
        const flags = r.uint32();
        r.end();
        const signature = await keyring.sign(blob, data, flags);
        return signature ? new Writer().raw(Buffer.from([MSG.SIGN_RESPONSE])).string(signature).bytes() : status(false);
      }
      case MSG.ADD_IDENTITY:
      case MSG.ADD_ID_CONSTRAINED: {
        const algorithm = r.cstring();
        const { comment, key } = privateFields(r, algorithm);
        const constraints: { lifetimeSeconds?: number; confirm: boolean } = { confirm: false };
        while (type === MSG.ADD_ID_CONSTRAINED && !r.done) {
          const c = r.byte();
          if (c === CONSTRAIN_LIFETIME) constraints.lifetimeSeconds = r.uint32();
          else if (c === CONSTRAIN_CONFIRM) constraints.confirm = true;
          else return status(false); // an unknown constraint refuses the key, as ssh-agent does
        }
        r.end();
        return status(keyring.add(algorithm, comment, key, constraints));
      }
      case MSG.REMOVE_IDENTITY: {
        const blob = r.string();
        r.end();
        return status(keyring.remove(blob));
      }
      case MSG.REMOVE_ALL_IDENTITIES:
        r.end();
        return status(keyring.removeAll());
      case MSG.LOCK:
      case MSG.UNLOCK: {
        const passphrase = r.string();
        r.end();
        return status(type === MSG.LOCK ? await keyring.lock(passphrase) : await keyring.unlock(passphrase));
      }
      case MSG.EXTENSION: {
        const name = r.cstring();
        if (name !== FORGET_EXTENSION && name !== STOP_EXTENSION) return status(false);
        r.end();
        keyring.forget();
        return status(true);
      }
      default:
        return status(false);
    }
  } catch {
    return status(false);
  }
}

/**
 * Serves one client: length-framed requests, answered one at a time and in order. Reading stops
 * while a request is answered or its reply waits to be sent (socket backpressure), so a client
 * that writes without reading cannot make the agent buffer without bound, as ssh-agent stops
 * reading a connection with output pending.
 */
function serve(keyring: Keyring, socket: Socket, hooks: AgentHooks): void {
  let pending: Buffer = Buffer.alloc(0);
  let working = false;
  socket.on('error', () => socket.destroy());
  const work = async () => {
    working = true;
    socket.pause();
    try {
      while (pending.length >= 4 && !socket.destroyed) {
        const length = pending.readUInt32BE(0);
        if (length > MAX_MESSAGE) return void socket.destroy();
        if (pending.length < 4 + length) break;
        const message = pending.subarray(4, 4 + length);
        pending = pending.subarray(4 + length);
        const reply = await answer(keyring, message);
        if (socket.destroyed) return;
        if (!socket.write(frame(reply))) await new Promise((r) => socket.once('drain', r));
        if (reply.length === 1 && reply[0] === SUCCESS && isStop(message)) hooks.onStop?.();
      }
    } finally {
      working = false;
    }
    if (pending.length > 4 + MAX_MESSAGE) return void socket.destroy();
    socket.resume();
  };
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    if (!working) void work();
  });
}

const isStop = (message: Buffer) => message[0] === MSG.EXTENSION && message.subarray(5).toString('latin1') === STOP_EXTENSION;
const SUCCESS = MSG.SUCCESS;

const frame = (reply: Buffer) => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(reply.length);
  return Buffer.concat([head, reply]);
};

export interface AgentHooks {
  /** After the stop extension was answered: the agent stops. */
  onStop?: () => void;
}

export interface AgentServer {
  /** Stops listening and closes every client connection at once (ssh-agent's cleanup_exit). */
  close(): Promise<void>;
}

/**
 * Listens on a Unix socket (made 0600; its folder should be 0700) and answers ssh-agent requests
 * from the keyring, each client's in order and clients side by side.
 */
export async function listenAgent(keyring: Keyring, socketPath: string, hooks: AgentHooks = {}): Promise<AgentServer> {
  const clients = new Set<Socket>();
  const server = createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    serve(keyring, socket, hooks);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  await chmod(socketPath, 0o600);
  return {
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const c of clients) c.destroy();
    }),
  };
}
