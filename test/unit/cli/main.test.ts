import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prompter } from '../../../src/cli/prompter.js';
import { CancelledError } from '../../../src/errors.js';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, runMain, tempHome } from '../../helpers/cli.js';

/** A fake of our own prompter seam: answers from a list and records the questions. */
function scripted(answers: Array<string | Error>): Prompter & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async password(message, options) {
      asked.push(options?.confirm ? `${message} (confirmed)` : message);
      const next = answers.shift();
      if (next === undefined) throw new Error('asked more than expected');
      if (next instanceof Error) throw next;
      return next;
    },
    async confirm(message) {
      asked.push(message);
      const next = answers.shift();
      if (next === undefined) throw new Error('asked more than expected');
      if (next instanceof Error) throw next;
      return /^y(es)?$/i.test(next);
    },
  };
}

describe('main (in-process, in-memory IO)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
  });

  it('prompts (with confirmation) on a terminal and stores the value; nothing on stdout', async () => {
    const prompter = scripted(['s3cret']);
    const set = await runMain(['secret', 'set', 'p/q'], env, { tty: true, prompter });
    expect(set.code, set.stderr).toBe(0);
    expect(prompter.asked).toEqual(['Value (confirmed)']);
    expect(set.stdout).toBe('');
    const get = await runMain(['secret', 'get', 'p/q'], env, { tty: true });
    expect(get.stdout).toBe('s3cret\n'); // a newline only because stdout is a terminal
  });

  it('never prompts with --no-input or CI=true, even on a terminal', async () => {
    for (const [args, e] of [[['--no-input', 'secret', 'set', 'p/r'], env], [['secret', 'set', 'p/r'], { ...env, CI: 'true' }]] as const) {
      const prompter = scripted([]);
      const got = await runMain([...args], e, { tty: true, prompter });
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/cannot prompt \((--no-input|CI=true)\); use "-"/);
      expect(prompter.asked).toEqual([]);
    }
  });

  it('the exit path reads the parsed command, not raw argv (issue 12)', async () => {
    // "tls check" as values of another command is not the monitoring plugin: a usage error is 2, not 3.
    expect((await runMain(['secret', 'get', 'tls', 'check'], env)).code).toBe(2);
    // The plugin itself: its usage errors are UNKNOWN (3).
    expect((await runMain(['tls', 'check', '--no-such-flag'], env)).code).toBe(3);
    // --debug after -- belongs to the command exec runs, not to keysmith.
    for (const args of [['secret', 'get', 'no/such', '--', '--debug'], ['exec', '--env', 'X=no/such', '--', 'echo', '--debug']]) {
      const got = await runMain(args, env);
      expect(got.code, args.join(' ')).not.toBe(0);
      expect(got.stderr, args.join(' ')).not.toMatch(/ERR_[A-Z_]+\n/);
    }
    // A parsed --debug, anywhere before --, shows the code.
    expect((await runMain(['secret', 'get', 'no/such', '--debug'], env)).stderr).toMatch(/ERR_VAULT_NOT_FOUND/);
  });

  it('every error kind maps to its exit code through main', async () => {
    const cases: Array<[string[], number]> = [
      [['secret', 'get', 'no/such'], 3],
      [['secret', 'set', 'bad name!', '-'], 2],
      [['--vault', 'nope', 'secret', 'list'], 2],
      [['tls', 'inspect', '/no/such/file.pem'], 2],
    ];
    for (const [args, code] of cases) expect((await runMain(args, env)).code, args.join(' ')).toBe(code);
    const wrong = await runMain(['secret', 'list'], { ...env, KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    expect(wrong.code).toBe(4); // the vault file is encrypted to another identity
  });

  it('a cancelled prompt is exit 130 and writes nothing', async () => {
    const got = await runMain(['secret', 'set', 'p/cancel'], env, { tty: true, prompter: scripted([new CancelledError()]) });
    expect(got.code).toBe(130);
    expect((await runMain(['secret', 'get', 'p/cancel'], env)).code).toBe(3);
  });

  it('maps errors to exit codes and shows codes only with --debug', async () => {
    const missing = await runMain(['secret', 'get', 'no/such'], env);
    expect(missing).toMatchObject({ code: 3, stdout: '' });
    expect(missing.stderr).toBe(`keysmith: no secret named no/such in ${home}/vault.age\n`);
    const debug = await runMain(['--debug', 'secret', 'get', 'no/such'], env);
    expect(debug.stderr).toMatch(/ERR_VAULT_NOT_FOUND/);
    expect((await runMain(['secret', 'get', 'bad name'], env)).code).toBe(2);
    expect((await runMain(['nope'], env)).code).toBe(2);
    expect((await runMain(['--help'], env)).code).toBe(0);
  });

  it('--quiet silences status lines but not data', async () => {
    const got = await runMain(['--quiet', 'secret', 'set', 'p/quiet', '-'], env, { input: 'x' });
    expect(got).toMatchObject({ code: 0, stderr: '' });
    expect((await runMain(['-q', 'secret', 'get', 'p/quiet'], env)).stdout).toBe('x');
  });
});
