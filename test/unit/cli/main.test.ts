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
