import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../../src/vault/age.js';
import { baseEnv, clockAt, runMain, tempHome } from '../../helpers/cli.js';

/**
 * `keysmith inject` and `keysmith exec` in-process (issue 12), against secrets set earlier in the
 * same temp vault. What is asserted is what README.md documents: {{ ks://NAME }} and
 * {{ ks://NAME#field }} templates copied byte for byte, output 0600, missing references exit 3
 * before anything is written or run; exec masking each value (and its encoded forms) as ***.
 */
describe('exec / inject (in-process)', () => {
  const { home, cleanup } = tempHome();
  afterAll(cleanup);
  const ks = join(home, 'ks');
  const now = { now: clockAt('2031-03-04T05:06:07.000Z') };
  const PASSWORD = 'hunter2-s3cret';
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    env = baseEnv({ HOME: home, KEYSMITH_HOME: ks, KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    const set = async (args: string[], input: string) => {
      const got = await runMain(['secret', 'set', ...args], env, { input, ...now });
      if (got.code !== 0) throw new Error(`secret set ${args.join(' ')}: ${got.stderr}`);
    };
    await set(['db/password', '-'], PASSWORD);
    await set(['db/prod', '-', '--field', 'user=app', '--field', 'host=db1.example.test'], 'prod-pass-99');
  });

  describe('inject', () => {
    it('stdin → stdout: each {{ ks://NAME }} and {{ ks://NAME#field }} filled, everything else as it was', async () => {
      const template = 'a: {{ ks://db/password }}\r\nb:\t{{ks://db/prod#user}}@{{  ks://db/prod#host  }}\nc: {{ not a ref }} ü {{ ks://db/prod }}';
      const got = await runMain(['inject'], env, { input: template, ...now });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(`a: ${PASSWORD}\r\nb:\tapp@db1.example.test\nc: {{ not a ref }} ü prod-pass-99`);
    });

    it('-i / -o: bytes that are not UTF-8 are copied exactly; the output is 0600; stderr counts the references', async () => {
      const tmpl = join(home, 'config.tmpl');
      const out = join(home, 'config.yml');
      const head = Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]);
      const tail = Buffer.from([0x0a, 0x80, 0xc3]);
      writeFileSync(tmpl, Buffer.concat([head, Buffer.from('pw={{ ks://db/password }};user={{ ks://db/prod#user }}'), tail]));
      const got = await runMain(['inject', '-i', tmpl, '-o', out], env, now);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('');
      expect(got.stderr).toBe(`wrote ${out} (2 reference(s) filled)\n`);
      expect(readFileSync(out).equals(Buffer.concat([head, Buffer.from(`pw=${PASSWORD};user=app`), tail]))).toBe(true);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    });

    it('an existing output is not replaced without --force (exit 2, unchanged); with --force it is', async () => {
      const out = join(home, 'existing.txt');
      writeFileSync(out, 'keep me');
      const refused = await runMain(['inject', '-o', out], env, { input: 'x={{ ks://db/password }}', ...now });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/already exists/);
      expect(readFileSync(out, 'utf8')).toBe('keep me');
      const forced = await runMain(['inject', '-o', out, '--force'], env, { input: 'x={{ ks://db/password }}', ...now });
      expect(forced.code, forced.stderr).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(`x=${PASSWORD}`);
      expect(statSync(out).mode & 0o777).toBe(0o600);
    });

    it('a missing reference (secret or field): exit 3, naming it, before anything is written', async () => {
      for (const ref of ['ks://db/nope', 'ks://db/prod#port']) {
        const out = join(home, `missing-${ref.length}.txt`);
        const got = await runMain(['inject', '-o', out], env, { input: `ok={{ ks://db/password }} bad={{ ${ref} }}`, ...now });
        expect(got.code, ref).toBe(3);
        expect(got.stdout).toBe('');
        expect(got.stderr).toMatch(/^keysmith: /);
        expect(got.stderr).toContain(ref.split('#')[1] ?? ref);
        expect(existsSync(out), ref).toBe(false);
      }
    });
  });

  describe('exec', () => {
    const sh = (script: string, ...flags: string[]) => ['exec', ...flags, '--', '/bin/sh', '-c', script];

    it('--env X=name: the child gets the value; its output shows *** in its place (masking is on by default)', async () => {
      const got = await runMain(sh('printf %s "$X"', '--env', 'X=db/password'), env, now);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('***');
      expect(got.stderr).toBe('');
      // The value did reach the child: its length, which is not the value, passes through.
      const len = await runMain(sh('printf %s "${#X}"', '--env', 'X=db/password'), env, now);
      expect(len.stdout).toBe(String(PASSWORD.length));
    });

    // Was a bug: with nothing to mask the command wrote to the process's own stdout and stderr, not
    // to the IO given to main (its stdin likewise was always the process's).
    it('--no-mask: the value, as it is, on the stdout given to main', async () => {
      const got = await runMain(sh('printf %s "$X"', '--env', 'X=db/password', '--no-mask'), env, now);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(PASSWORD);
    });

    it('its stdin is the one given to main', async () => {
      const got = await runMain(['exec', '--', '/bin/sh', '-c', 'tr a-z A-Z'], env, { ...now, input: 'piped in' });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('PIPED IN');
    });

    it('no secrets at all: the command’s stdout and stderr reach the IO given to main', async () => {
      const got = await runMain(['exec', '--', '/bin/sh', '-c', 'printf out; printf err >&2'], env, now);
      expect(got.code).toBe(0);
      expect(got.stdout).toBe('out');
      expect(got.stderr).toBe('err');
    });

    it('masks inside other output, on stderr too, and ks://NAME#field references', async () => {
      const got = await runMain(sh('printf "before %s after" "$X"; printf "[%s]" "$P" >&2', '--env', 'X=db/password', '--env', 'P=ks://db/prod'), env, now);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('before *** after');
      expect(got.stderr).toBe('[***]');
      const field = await runMain(sh('printf %s "$H"', '--env', 'H=ks://db/prod#host'), env, now);
      expect(field.stdout).toBe('***');
    });

    it('the encoded forms it leaks in are masked too: base64, hex', async () => {
      const b64 = await runMain(sh('printf %s "$X" | base64', '--env', 'X=db/password'), env, now);
      expect(b64.code, b64.stderr).toBe(0);
      expect(b64.stdout).toContain('***');
      expect(b64.stdout).not.toContain(Buffer.from(PASSWORD).toString('base64').slice(0, 16));
      const hex = await runMain(sh('printf %s "$X" | od -An -tx1 | tr -d " \\n"', '--env', 'X=db/password'), env, now);
      expect(hex.code, hex.stderr).toBe(0);
      expect(hex.stdout).toBe('***');
      // Control: the base64 of a value that is not a secret passes through, in the same masked run.
      const other = await runMain(sh('printf %s "not-a-secret" | base64; printf %s "$X" | base64', '--env', 'X=db/password'), env, now);
      expect(other.stdout.split('\n')[0]).toBe(Buffer.from('not-a-secret').toString('base64'));
      expect(other.stdout.split('\n')[1]).toContain('***');
    });

    it('a value shorter than 4 characters is not masked, with a warning (the others still are)', async () => {
      const got = await runMain(sh('printf "%s:%s" "$U" "$X"', '--env', 'U=ks://db/prod#user', '--env', 'X=db/password'), env, now);
      expect(got.code).toBe(0);
      expect(got.stdout).toBe('app:***');
      expect(got.stderr).toBe('warning: U is shorter than 4 characters and is not masked\n');
    });

    it('the child gets no KEYSMITH_* variable, only what --env asked for', async () => {
      expect(Object.keys(env).filter((k) => k.startsWith('KEYSMITH_')).length).toBeGreaterThan(2);
      const got = await runMain(sh('env | grep -c "^KEYSMITH_" || true', '--env', 'X=db/password'), env, now);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe('0\n');
    });

    it('--env-file: ks:// lines resolved, plain values passed through', async () => {
      const file = join(home, '.env.keysmith');
      writeFileSync(file, '# comment\nexport DB_USER=ks://db/prod#user\nDB_PASSWORD="ks://db/password"\nREGION=eu-west-1\n');
      const got = await runMain(sh('printf "%s,%s,%s" "$DB_USER" "$REGION" "${#DB_PASSWORD}"', '--env-file', file), env, now);
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout).toBe(`app,eu-west-1,${PASSWORD.length}`);
    });

    it('a missing reference: exit 3, named, and the command never runs', async () => {
      const marker = join(home, 'ran');
      const bare = await runMain(sh(`touch '${marker}'`, '--env', 'X=db/password', '--env', 'Y=no/such'), env, now);
      expect(bare.code).toBe(3);
      expect(bare.stderr).toMatch(/^keysmith: Y: no secret by the name given after "="/);
      expect(bare.stderr).not.toContain('no/such'); // a bare name may be a value typed by mistake
      const ref = await runMain(sh(`touch '${marker}'`, '--env', 'X=ks://no/such'), env, now);
      expect(ref.code).toBe(3);
      expect(ref.stderr).toContain('ks://no/such');
      expect(existsSync(marker)).toBe(false);
    });

    it('exits with the command’s code; --shell runs the command through /bin/sh -c', async () => {
      expect((await runMain(sh('exit 7'), env, now)).code).toBe(7);
      const got = await runMain(['exec', '--shell', '--env', 'X=db/password', '--', 'printf "%s" "$X"; exit 3'], env, now);
      expect(got.code).toBe(3);
      expect(got.stdout).toBe('***');
    });
  });
});
