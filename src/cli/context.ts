import type { Command } from 'commander';
import { systemError, UsageError } from '../errors.js';
import { resolvePaths, type KeysmithPaths } from '../paths.js';
import type { OpenedVault, VaultOptions } from '../vault/open.js';
import { readAll, write, type IO } from './io.js';
import type { Prompter } from './prompter.js';

/** Global flags, parsed once. */
export interface GlobalFlags {
  json: boolean;
  input: boolean;
  vault?: string;
  debug: boolean;
  quiet: boolean;
}

/** Makes the Context for the command being run, from the global flags parsed by commander. */
export type ContextFor = (command: Command) => Context;

/** What a command gets: IO, flags, seams. Nothing here writes to process.env. */
export class Context {
  readonly paths: KeysmithPaths;
  readonly env: NodeJS.ProcessEnv;
  constructor(
    readonly io: IO,
    readonly flags: GlobalFlags,
    readonly prompter: Prompter,
    readonly now: () => Date = () => new Date(),
  ) {
    this.env = io.env;
    this.paths = resolvePaths(io.env);
  }

  /** Prompts only with a terminal on both ends, and never under --no-input or CI=true. */
  canPrompt(): boolean {
    return this.flags.input && this.env.CI !== 'true' && this.io.isTTY.stdin && this.io.isTTY.stderr;
  }

  /** A hidden prompt, or a usage error naming what to use instead. */
  async askSecret(message: string, options: { confirm?: boolean; instead: string }): Promise<string> {
    if (!this.canPrompt()) {
      throw new UsageError(`${message}: cannot prompt (${this.whyNoPrompt()}); use ${options.instead}`, undefined, 'ERR_NO_INPUT');
    }
    return this.prompter.password(message, options);
  }

  /** A secret line from stdin with `fromStdin` (one trailing newline dropped), else a hidden prompt. */
  async secretInput(fromStdin: boolean, message: string, options: { confirm?: boolean; instead: string }): Promise<string> {
    if (fromStdin) return (await readAll(this.io.stdin)).toString('utf8').replace(/\r?\n$/, '');
    return this.askSecret(message, options);
  }

  private whyNoPrompt(): string {
    if (!this.flags.input) return '--no-input';
    if (this.env.CI === 'true') return 'CI=true';
    return 'no terminal';
  }

  /** A status line for people, on stderr; silent with --quiet. */
  async status(line: string): Promise<void> {
    if (!this.flags.quiet) await write(this.io.stderr, `${line}\n`);
  }

  async out(data: string | Uint8Array): Promise<void> {
    try {
      await write(this.io.stdout, data);
    } catch (err) {
      // A full disk behind `> file`: the raw error names no file at all.
      throw systemError(err, 'standard output', 'write') ?? err;
    }
  }

  /** JSON on stdout; C1 controls (U+0080–U+009F, which some terminals obey) written as \u escapes, as JSON.stringify writes C0. */
  async json(value: unknown): Promise<void> {
    await this.out(`${JSON.stringify(value, null, 2).replace(/[\u0080-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
  }

  /** What the vault layer needs from the CLI: the passphrase from KEYSMITH_PASSPHRASE or a prompt. */
  vaultOptions(backend = this.flags.vault): VaultOptions {
    return {
      backend,
      paths: this.paths,
      env: this.env,
      now: this.now,
      notice: (message) => void this.status(message),
      passphrase: async ({ message, confirm }) =>
        this.env.KEYSMITH_PASSPHRASE ?? this.askSecret(message, { confirm, instead: 'KEYSMITH_PASSPHRASE, KEYSMITH_SESSION or KEYSMITH_AGE_IDENTITY' }),
    };
  }

  /** The vault code is imported here, not with the CLI: `--help` and `ssh fingerprint` never open it. */
  async openVault(): Promise<OpenedVault> {
    const { openVault } = await import('../vault/open.js');
    return openVault(this.vaultOptions());
  }
}
