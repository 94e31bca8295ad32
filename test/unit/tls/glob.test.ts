import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob } from '../../../src/tls/check.js';

/** bash's verdict (globstar on, dotglob off, as an interactive shell with globstar), files only. */
function bash(cwd: string, pattern: string): string[] {
  const r = spawnSync('bash', ['-O', 'globstar', '-O', 'nullglob', '-c', `for f in ${pattern}; do printf '%s\\0' "$f"; done`], { cwd, encoding: 'utf8' });
  return r.stdout
    .split('\0')
    .filter((f) => f !== '' && statSync(join(cwd, f), { throwIfNoEntry: false })?.isFile())
    .sort();
}

describe('tls check file targets: globs as bash expands them (issue 11)', () => {
  let dir: string;
  const cwd = process.cwd();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ks-glob-'));
    for (const f of ['a.pem', 'b.pem', 'c.crt', 'ab.pem', 'certs/x.pem', 'certs/deep/y.pem', 'certs/deep/deeper/z.crt', '.hidden.pem', '.git/k.pem', 'certs/.dot/w.pem', 'sp ace/s.pem']) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      writeFileSync(join(dir, f), '');
    }
    symlinkSync('a.pem', join(dir, 'link.pem'));
    process.chdir(dir);
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['*.pem', '[!a]*.pem', '[ab].pem', '?.pem', 'certs/**', '**', '**/*.pem', 'certs/**/*.crt', '{a,b}.pem', '*.{pem,crt}', 'sp ace/*', 'certs/*/y.pem'])('%s', async (pattern) => {
    const expected = bash(dir, pattern.replace(/ /g, '\\ '));
    expect(expected.length).toBeGreaterThan(0);
    expect((await expandGlob(pattern)).sort()).toEqual(expected);
  });

  it('an absolute pattern gives absolute paths; a ./ pattern keeps ./', async () => {
    expect(await expandGlob(join(dir, 'certs/**/*.pem'))).toEqual([join(dir, 'certs/deep/y.pem'), join(dir, 'certs/x.pem')]);
    expect(await expandGlob('./[ab].pem')).toEqual(['./a.pem', './b.pem']);
  });

  it('a path with no glob characters is returned as it is, even when missing', async () => {
    expect(await expandGlob('missing.pem')).toEqual(['missing.pem']);
  });

  it('a large tree: 5,000 files in 100 folders', async () => {
    const big = join(dir, 'big');
    for (let d = 0; d < 100; d++) {
      mkdirSync(join(big, `d${d}`, 'sub'), { recursive: true });
      for (let f = 0; f < 50; f++) writeFileSync(join(big, `d${d}`, f % 2 ? `f${f}.pem` : `sub/f${f}.pem`), '');
    }
    const got = await expandGlob('big/**/*.pem');
    expect(got.length).toBe(5000);
    expect(got.sort()).toEqual(bash(dir, 'big/**/*.pem'));
  });
});
