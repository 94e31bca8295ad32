import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { baseEnv, runBin, tempHome } from '../helpers/cli.js';
import { describeWith } from '../helpers/system.js';

const { home, cleanup } = tempHome();
afterAll(cleanup);
const script = async (shell: string) => {
  const got = await runBin(['completion', shell], { env: baseEnv({ KEYSMITH_HOME: home }) });
  expect(got.code, got.stderr).toBe(0);
  const file = join(home, `keysmith.${shell}`);
  writeFileSync(file, got.stdout);
  return file;
};

/** Runs the bash completion function for a command line the way bash does on TAB. */
const bashComplete = (shell: 'bash' | 'zsh', file: string, words: string[]) => {
  const setup = shell === 'zsh' ? 'setopt ksharrays; ' : '';
  const line = `source ${file}; ${setup}COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _keysmith; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync(shell, ['-c', line], { encoding: 'utf8', env: { ...process.env, HOME: home } }).trim().split('\n');
};

describeWith(['bash'], 'bash completion', () => {
  let file = '';
  beforeAll(async () => {
    file = await script('bash');
  });
  it('completes commands, subcommands, options and option values', () => {
    expect(bashComplete('bash', file, ['keysmith', ''])).toEqual(['secret', 'vault', 'ssh', 'tls', 'oauth', 'team', 'helper', 'exec', 'inject', 'scan', 'expiry', 'completion', 'help']);
    expect(bashComplete('bash', file, ['keysmith', 'sec'])).toEqual(['secret']);
    expect(bashComplete('bash', file, ['keysmith', 'secret', 'g'])).toEqual(['get', 'generate']);
    expect(bashComplete('bash', file, ['keysmith', '--json', 'vault', 'mi'])).toEqual(['migrate']);
    expect(bashComplete('bash', file, ['keysmith', 'secret', 'generate', '--ch'])).toEqual(['--charset']);
    expect(bashComplete('bash', file, ['keysmith', 'secret', 'generate', '--charset', ''])).toEqual(['alnum', 'ascii', 'hex', 'base64url']);
    expect(bashComplete('bash', file, ['keysmith', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
  });
  it('registers for the keysmith command', () => {
    expect(execFileSync('bash', ['-c', `source ${file}; complete -p keysmith`], { encoding: 'utf8' })).toMatch(/-F _keysmith keysmith/);
  });
});

describeWith(['zsh'], 'zsh completion', () => {
  it('loads in zsh and completes subcommands', async () => {
    const file = await script('zsh');
    expect(bashComplete('zsh', file, ['keysmith', 'vault', ''])).toEqual(['status', 'init', 'migrate', 'export', 'import', 'unlock', 'lock', 'help']);
    expect(execFileSync('zsh', ['-c', `source ${file}; complete -p keysmith`], { encoding: 'utf8', env: { ...process.env, HOME: home } })).toMatch(/_keysmith/);
  });
});

describeWith(['fish'], 'fish completion', () => {
  it('loads in fish and completes subcommands, options and values with descriptions', async () => {
    const file = await script('fish');
    const complete = (line: string) => execFileSync('fish', ['-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8', env: { ...process.env, HOME: home } });
    expect(complete('keysmith sec')).toMatch(/^secret\tstore, read/m);
    expect(complete('keysmith vault ')).toMatch(/^unlock\t/m);
    expect(complete('keysmith secret generate --charset ')).toMatch(/^base64url/m);
    expect(complete('keysmith secret set --from')).toMatch(/^--from-file/m);
  });
});
