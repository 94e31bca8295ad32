import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/vault/age.js';
import { BIN, baseEnv, runBin, tempHome } from '../helpers/cli.js';

const SECRET = 'pa$$-W0rd/with+specials';
const forms = [
  SECRET,
  Buffer.from(SECRET).toString('base64'),
  Buffer.from(SECRET).toString('base64url'),
  encodeURIComponent(SECRET),
  Buffer.from(SECRET).toString('hex'),
  Buffer.from(SECRET).toString('hex').toUpperCase(),
];

describe('keysmith exec', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  const node = (script: string) => [process.execPath, '-e', script];
  beforeAll(async () => {
    env = baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    await runBin(['secret', 'set', 'db/password', '-'], { env, input: SECRET });
    await runBin(['secret', 'set', 'db/prod', '--field', 'user=app-user', '-'], { env, input: 'prod-password-value' });
    await runBin(['secret', 'set', 'short/one', '-'], { env, input: 'abc' });
  });

  it('passes secrets in the environment and masks every form, whole or split byte by byte, on stdout and stderr', async () => {
    const script = `
      const v = process.env.DB_PASSWORD;
      const forms = ${JSON.stringify(forms)};
      process.stdout.write('whole: ' + forms.join(' | ') + '\\n');
      (async () => {
        for (const f of forms) for (const ch of f) { process.stdout.write(ch); await new Promise((r) => setTimeout(r, 1)); }
        process.stdout.write('\\nsplit done\\n');
        process.stderr.write('err: ' + v + ' and ' + forms[4] + '\\n');
        if (v !== ${JSON.stringify(SECRET)}) process.exit(9);
      })();`;
    const got = await runBin(['exec', '--env', 'DB_PASSWORD=db/password', '--', ...node(script)], { env });
    expect(got.code, got.stderr).toBe(0);
    // Adjacent forms may merge into one *** or not, depending on how the bytes arrive.
    expect(got.stdout).toMatch(/^whole: \*\*\* \| \*\*\*= \| \*\*\* \| \*\*\* \| \*\*\* \| \*\*\*\n\*+=\*+\nsplit done\n$/);
    expect(got.stderr).toBe('err: *** and ***\n');
    for (const f of forms) {
      expect(got.stdout).not.toContain(f);
      expect(got.stderr).not.toContain(f);
    }
  });

  it('masks inside binary output and keeps every other byte', async () => {
    const script = `
      const noise = Buffer.alloc(300000, 0).map((_, i) => (i * 7919) % 251);
      const parts = [];
      for (let i = 0; i < 30; i++) parts.push(noise.subarray(i * 10000, (i + 1) * 10000), Buffer.from(process.env.S));
      process.stdout.write(Buffer.concat(parts));`;
    const got = await runBin(['exec', '--env', 'S=db/password', '--', ...node(script)], { env });
    const noise = Buffer.from(Buffer.alloc(300000, 0).map((_, i) => (i * 7919) % 251));
    const expected: Buffer[] = [];
    for (let i = 0; i < 30; i++) expected.push(noise.subarray(i * 10000, (i + 1) * 10000), Buffer.from('***'));
    expect(got.stdoutBytes.equals(Buffer.concat(expected))).toBe(true);
  });

  it('returns the child exit code: 0, 1, 42; 128+n for a signal', async () => {
    for (const code of [0, 1, 42]) {
      expect((await runBin(['exec', '--env', 'S=db/password', '--', ...node(`process.exit(${code})`)], { env })).code).toBe(code);
    }
    const killed = await runBin(['exec', '--env', 'S=db/password', '--', ...node(`process.kill(process.pid, 'SIGTERM')`)], { env });
    expect(killed.code).toBe(128 + 15);
  });

  it('forwards SIGINT and SIGTERM to the child', async () => {
    for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15]] as const) {
      const child = spawn(process.execPath, [BIN, 'exec', '--env', 'S=db/password', '--', ...node(`
        process.on('${signal}', () => { console.log('child got ${signal}'); process.exit(${number === 2 ? 7 : 8}); });
        console.log('ready'); setInterval(() => {}, 1000);`)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await new Promise<void>((resolve) => child.stdout.on('data', () => out.includes('ready') && resolve()));
      child.kill(signal);
      const code = await new Promise((r) => child.on('close', r));
      expect(out).toContain(`child got ${signal}`);
      expect(code).toBe(number === 2 ? 7 : 8);
    }
  });

  it("the child gets none of keysmith's credentials or variables, only what was asked", async () => {
    const credentials = {
      KEYSMITH_PASSPHRASE: 'passphrase-value-1',
      KEYSMITH_SESSION: 'session-value-2',
      KEYSMITH_SECRET_OTHER: 'other-secret-value-3',
      KEYSMITH_BACKUP_PASSPHRASE: 'backup-value-4',
      KEYSMITH_SSH_PASSWORD: 'ssh-password-value-5',
    };
    const got = await runBin(['exec', '--no-mask', '--env', 'DB_PASSWORD=db/password', '--', ...node('console.log(JSON.stringify(Object.keys(process.env).filter((k) => k.startsWith("KEYSMITH_") || k === "DB_PASSWORD")))')], {
      env: { ...env, ...credentials },
    });
    expect(got.code, got.stderr).toBe(0);
    // The vault's own identity came in KEYSMITH_AGE_IDENTITY: the child must not have that either.
    expect(JSON.parse(got.stdout.trim())).toEqual(['DB_PASSWORD']);
  });

  it('a value the environment cannot carry exactly (not UTF-8, NUL) is refused before the child starts', async () => {
    const raw = join(home, 'binary.bin');
    writeFileSync(raw, Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x63, 0x64, 0x65, 0x66]));
    expect((await runBin(['secret', 'set', 'bin/value', '--from-file', raw], { env })).code).toBe(0);
    const marker = join(home, 'child-ran');
    const got = await runBin(['exec', '--env', 'B=bin/value', '--', ...node(`require('fs').writeFileSync(${JSON.stringify(marker)}, '')`)], { env });
    expect(got.code).toBe(2);
    expect(got.stderr).toMatch(/B: the value is not UTF-8 text/);
    expect(got.stderr).toMatch(/hint: /);
    expect(existsSync(marker)).toBe(false);
  });

  it('a value over the OS limit for one variable is refused before the child starts; --env-path hands over a private file instead', async () => {
    const big = join(home, 'big.bin');
    // 256 KiB with a NUL and bytes that are not UTF-8: nothing an environment variable could carry.
    const value = Buffer.concat([Buffer.from([0, 0xff]), randomBytes(256 * 1024)]);
    writeFileSync(big, value);
    expect((await runBin(['secret', 'set', 'big/value', '--from-file', big], { env })).code).toBe(0);
    const marker = join(home, 'big-child-ran');
    const refused = await runBin(['exec', '--env', 'BIG=big/value', '--', ...node(`require('fs').writeFileSync(${JSON.stringify(marker)}, '')`)], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^keysmith: BIG: .*\nhint: .*--env-path BIG=/);
    expect(refused.stderr.split('\n').length).toBe(3);
    expect(existsSync(marker)).toBe(false);

    const script = `
      const fs = require('fs'), path = require('path');
      const file = process.env.BIG_FILE;
      const st = fs.statSync(file), dir = fs.statSync(path.dirname(file));
      fs.writeFileSync(${JSON.stringify(marker)}, JSON.stringify({ file, mode: st.mode & 0o777, dirMode: dir.mode & 0o777, sha: require('crypto').createHash('sha256').update(fs.readFileSync(file)).digest('hex'), value: process.env.BIG ?? null }));`;
    const got = await runBin(['exec', '--env-path', 'BIG_FILE=big/value', '--', ...node(script)], { env });
    expect(got.code, got.stderr).toBe(0);
    const seen = JSON.parse(readFileSync(marker, 'utf8')) as { file: string; mode: number; dirMode: number; sha: string; value: string | null };
    expect(seen).toMatchObject({ mode: 0o600, dirMode: 0o700, value: null, sha: createHash('sha256').update(value).digest('hex') });
    // Gone once the command has ended, folder and all.
    expect(existsSync(seen.file)).toBe(false);
    expect(existsSync(dirname(seen.file))).toBe(false);
  });

  it('an environment larger than the system allows in all (E2BIG) is exit 126 with a hint, not a crash', async () => {
    expect((await runBin(['secret', 'set', 'big/120k', '-'], { env, input: 'x'.repeat(120 * 1024) })).code).toBe(0);
    // Each variable is under the per-string limit; together they are over ARG_MAX (2 MiB with the usual 8 MiB stack).
    const flags = Array.from({ length: 24 }, (_, i) => ['--env', `V${i}=big/120k`]).flat();
    const got = await runBin(['exec', ...flags, '--', 'true'], { env });
    expect(got.code).toBe(126);
    expect(got.stderr).toMatch(/^keysmith: true: cannot start: .*\(E2BIG\)\nhint: .*--env-path/);
  });

  it('masks a value whose halves go to stdout and stderr when both reach the same file (2>&1), in the order written', async () => {
    const log = join(home, 'merged.log');
    for (const script of [
      // with a pause between the halves, and without: two pipes could not tell which came first
      `process.stdout.write('[' + process.env.S.slice(0, 9), () => setTimeout(() => process.stderr.write(process.env.S.slice(9) + ']'), 300));`,
      `require('fs').writeSync(1, '[' + process.env.S.slice(0, 9)); require('fs').writeSync(2, process.env.S.slice(9)); require('fs').writeSync(1, ']\\n');`,
    ]) {
      const fd = openSync(log, 'w');
      const child = spawn(process.execPath, [BIN, 'exec', '--env', 'S=db/password', '--', ...node(script)], { env, stdio: ['ignore', fd, fd] });
      const code = await new Promise((resolve) => child.on('close', resolve));
      closeSync(fd);
      expect(code).toBe(0);
      expect(readFileSync(log, 'utf8')).toMatch(/^\[\*\*\*\]\n?$/);
    }
  });

  it('keeps memory bounded with a 64 KB secret and with 1 MB of secrets', async () => {
    const peak = async (names: string[]) => {
      // The command is the direct child of keysmith: it reads keysmith's peak memory once it has written everything.
      const script = `const big = Buffer.alloc(8 << 20, 'log line with nothing secret in it\\n'); process.stdout.write(big, () => process.stderr.write(require('fs').readFileSync('/proc/' + process.ppid + '/status', 'utf8').match(/VmHWM:\\s+(\\d+)/)[1]));`;
      const got = await runBin(['exec', ...names.flatMap((n, i) => ['--env', `V${i}=${n}`]), '--', ...node(script)], { env });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdoutBytes.length).toBe(8 << 20);
      return Number(got.stderr) * 1024;
    };
    const sizes: Record<string, number> = { 'mem/64k': 64 * 1024 };
    for (let i = 0; i < 10; i++) sizes[`mem/100k-${i}`] = 100 * 1024;
    for (const [name, size] of Object.entries(sizes)) {
      expect((await runBin(['secret', 'set', name, '-'], { env, input: randomBytes(size).toString('base64').slice(0, size) })).code).toBe(0);
    }
    const base = await peak(['db/password']);
    const one = await peak(['db/password', 'mem/64k']);
    const many = await peak(['db/password', ...Object.keys(sizes).filter((n) => n.startsWith('mem/100k'))]);
    // About 13 bytes a byte of every form a value can take (~15 forms), and what the GC has not
    // handed back yet: ~37 and ~170 MiB measured. The old full table took 1 KiB a byte (1.5 GB for 64 KB).
    expect(one - base).toBeLessThan(96 << 20);
    expect(many - base).toBeLessThan(400 << 20);
  }, 120_000);

  it('passes stdin through untouched', async () => {
    const input = Buffer.from([0, 1, 2, 255, 10, 13]).toString('latin1') + 'plain text';
    const got = await runBin(['exec', '--env', 'S=db/password', '--', ...node(`process.stdin.pipe(process.stdout)`)], { env, input: Buffer.from(input, 'latin1') });
    expect(got.stdoutBytes.equals(Buffer.from(input, 'latin1'))).toBe(true);
  });

  it('a bare name that is not in the vault is not echoed: it may be a value typed in its place', async () => {
    const got = await runBin(['exec', '--env', 'DB_PASSWORD=Hunter2Value', '--', 'true'], { env });
    expect(got.code).toBe(3);
    expect(got.stderr).toMatch(/DB_PASSWORD: no secret by the name given/);
    expect(got.stderr).not.toContain('Hunter2Value');
  });

  it('a missing reference fails with exit 3 naming it, before the child starts', async () => {
    const marker = join(home, 'started');
    const got = await runBin(['exec', '--env', 'A=db/password', '--env', 'B=ks://no/such', '--', ...node(`require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`)], { env });
    expect(got.code).toBe(3);
    expect(got.stderr).toMatch(/ks:\/\/no\/such/);
    expect(existsSync(marker)).toBe(false);
    const field = await runBin(['exec', '--env', 'A=ks://db/prod#nope', '--', 'true'], { env });
    expect(field.code).toBe(3);
    expect(field.stderr).toMatch(/no field "nope"/);
  });

  it('reads env files: references resolve, plain values pass through, fields work', async () => {
    const file = join(home, '.env.keysmith');
    writeFileSync(file, `# comment\nexport DB_USER=ks://db/prod#user\nDB_PASS="ks://db/prod"\nPLAIN='not a secret'\n\nREGION=eu-west-1\n`);
    const got = await runBin(['exec', '--env-file', file, '--', ...node(`console.log([process.env.DB_USER, process.env.DB_PASS === 'prod-password-value', process.env.PLAIN, process.env.REGION].join(','))`)], { env });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe('***,true,not a secret,eu-west-1\n');
    writeFileSync(file, 'not a valid line\n');
    expect((await runBin(['exec', '--env-file', file, '--', 'true'], { env })).code).toBe(2);
  });

  it('--no-mask shows values; short values are not masked, with a warning', async () => {
    const plain = await runBin(['exec', '--no-mask', '--env', 'S=db/password', '--', ...node('console.log(process.env.S)')], { env });
    expect(plain.stdout).toBe(`${SECRET}\n`);
    const short = await runBin(['exec', '--env', 'S=short/one', '--env', 'T=db/password', '--', ...node('console.log(process.env.S, process.env.T)')], { env });
    expect(short.stdout).toBe('abc ***\n');
    expect(short.stderr).toMatch(/S is shorter than 4 characters and is not masked/);
  });

  it('announces every form to GitHub Actions on stderr, before the child runs: stdout may be a pipe to another program', async () => {
    const got = await runBin(['exec', '--env', 'S=db/password', '--', ...node('console.log("child")')], { env: { ...env, GITHUB_ACTIONS: 'true' } });
    expect(got.stdout).toBe('child\n');
    const lines = got.stderr.trim().split('\n');
    for (const f of forms) expect(lines).toContain(`::add-mask::${f.replace(/=+$/, '').replace(/%/g, '%25')}`);
  });

  it('escapes %, CR and LF in ::add-mask:: as the runner unescapes them, one line per line of the value', async () => {
    expect((await runBin(['secret', 'set', 'gha/odd', '-'], { env, input: 'pw%0Aok\rtail-part\nsecond-line' })).code).toBe(0);
    const got = await runBin(['exec', '--env', 'S=gha/odd', '--', 'true'], { env: { ...env, GITHUB_ACTIONS: 'true' } });
    const lines = got.stderr.split('\n').filter((l) => l.startsWith('::add-mask::'));
    expect(lines).toContain('::add-mask::pw%250Aok');
    expect(lines).toContain('::add-mask::tail-part');
    expect(lines).toContain('::add-mask::second-line');
    for (const l of lines) expect(l).not.toMatch(/\r/);
  });

  it('a reader that goes away (| head -c1) ends the copy quietly: no stack trace, and the --env-path files are removed', async () => {
    const dir = join(home, 'runtime-epipe');
    mkdirSync(dir, { mode: 0o700 });
    const child = spawn(process.execPath, [BIN, 'exec', '--env', 'S=db/password', '--env-path', 'F=db/password', '--', 'sh', '-c', 'yes | head -c 1000000; sleep 1'], { env: { ...env, XDG_RUNTIME_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/Error|at |unexpected/);
    expect(code).not.toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a child that leaves a background process holding stdout: SIGTERM still ends keysmith and removes the files', async () => {
    const dir = join(home, 'runtime-grandchild');
    mkdirSync(dir, { mode: 0o700 });
    const child = spawn(process.execPath, [BIN, 'exec', '--env', 'S=db/password', '--env-path', 'F=db/password', '--', 'sh', '-c', 'sleep 30 & echo started'], { env: { ...env, XDG_RUNTIME_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the child has exited; the background sleep holds the pipe
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(128 + 15);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--env-path works when $XDG_RUNTIME_DIR names no folder: the files go to the temp folder', async () => {
    const got = await runBin(['exec', '--env-path', 'F=db/password', '--', ...node('process.stdout.write(require("fs").readFileSync(process.env.F).length + "")')], { env: { ...env, XDG_RUNTIME_DIR: join(home, 'no-such-runtime-dir') } });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe(String(SECRET.length));
  });

  it('never writes ::add-mask:: into a file stdout was redirected to: the runner reads stderr too', async () => {
    const out = join(home, 'redirected.txt');
    const err = join(home, 'redirected-err.txt');
    const cmd = `"${process.execPath}" "${BIN}" exec --env S=db/password -- "${process.execPath}" -e 'console.log("child")'`;
    const one = spawnSync('bash', ['-c', `${cmd} > "${out}"`], { env: { ...env, GITHUB_ACTIONS: 'true' }, encoding: 'utf8' });
    expect(one.status, one.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('child\n');
    expect(one.stderr).toContain(`::add-mask::${SECRET}`);
    // Both redirected: nothing reaches the runner's log, so nothing is announced anywhere.
    const both = spawnSync('bash', ['-c', `${cmd} > "${out}" 2> "${err}"`], { env: { ...env, GITHUB_ACTIONS: 'true' }, encoding: 'utf8' });
    expect(both.status).toBe(0);
    expect(readFileSync(out, 'utf8') + readFileSync(err, 'utf8')).not.toContain('::add-mask::');
  });

  it('runs through /bin/sh only with --shell; a missing command is 127', async () => {
    const sh = await runBin(['exec', '--shell', '--env', 'S=db/prod', '--', 'printf "%s" "$S" | wc -c'], { env });
    expect(sh.stdout.trim()).toBe(String('prod-password-value'.length));
    const noShell = await runBin(['exec', '--', 'echo $HOME'], { env });
    expect(noShell.code).toBe(127);
  });
});

describe('keysmith inject', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ KEYSMITH_HOME: home, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    await runBin(['secret', 'set', 'db/prod', '--field', 'user=app', '-'], { env, input: 'multi\nline' });
  });

  it('fills references into a 0600 file and copies everything else byte for byte', async () => {
    const tmpl = join(home, 'config.tmpl');
    writeFileSync(tmpl, Buffer.concat([Buffer.from('user: {{ ks://db/prod#user }}\npass: "{{ks://db/prod}}"\nbin: '), Buffer.from([0xff, 0x00]), Buffer.from(' {{ not a ref }}\n')]));
    const out = join(home, 'config.yml');
    const got = await runBin(['inject', '-i', tmpl, '-o', out], { env });
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(out).equals(Buffer.concat([Buffer.from('user: app\npass: "multi\nline"\nbin: '), Buffer.from([0xff, 0x00]), Buffer.from(' {{ not a ref }}\n')]))).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = await runBin(['inject', '-i', tmpl, '-o', out], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--force/);
    expect((await runBin(['inject', '-i', tmpl, '-o', out, '--force'], { env })).code).toBe(0);
  });

  it('a missing reference is exit 3 and no output file is created', async () => {
    const tmpl = join(home, 'missing.tmpl');
    writeFileSync(tmpl, 'a: {{ ks://db/prod }}\nb: {{ ks://no/such }}\n');
    const out = join(home, 'missing.out');
    const got = await runBin(['inject', '-i', tmpl, '-o', out], { env });
    expect(got.code).toBe(3);
    expect(got.stderr).toMatch(/ks:\/\/no\/such/);
    expect(existsSync(out)).toBe(false);
  });

  it('a template with no references is copied exactly; stdin to stdout works', async () => {
    const bytes = Buffer.from('no refs here {{ x }} ks://db/prod\r\n\u00e9');
    const tmpl = join(home, 'plain.tmpl');
    writeFileSync(tmpl, bytes);
    const out = join(home, 'plain.out');
    expect((await runBin(['inject', '-i', tmpl, '-o', out], { env: baseEnv({ KEYSMITH_HOME: join(home, 'nothing') }) })).code).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    const piped = await runBin(['inject'], { env, input: 'pw={{ ks://db/prod }}' });
    expect(piped.stdout).toBe('pw=multi\nline');
  });

  it('a malformed reference is a usage error', async () => {
    expect((await runBin(['inject'], { env, input: '{{ ks://bad name }} {{ ks:///x }}' })).code).toBe(2);
  });
});
