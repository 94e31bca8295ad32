import { mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN, baseEnv, runBin, runProgram, tempHome } from '../helpers/cli.js';
import { awsWithExport, describeWith } from '../helpers/system.js';
import { generateIdentity } from '../../src/vault/age.js';

/**
 * The real AWS CLI (Debian's awscli, v2) resolving a profile whose `credential_process` is keysmith:
 * `aws configure export-credentials` prints what the SDK got, with no network.
 */

describeWith(['aws'], 'AWS CLI credential_process: keysmith secret get --aws-credential-process', () => {
  const { home, cleanup } = tempHome();
  let env: NodeJS.ProcessEnv;
  let aws: string;

  beforeAll(async () => {
    aws = awsWithExport();
    env = baseEnv({ HOME: home, KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity() });
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'bin', 'keysmith'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
    env.PATH = `${join(home, 'bin')}${delimiter}${env.PATH}`;
    mkdirSync(join(home, '.aws'));
    writeFileSync(join(home, '.aws', 'config'), ['prod', 'session', 'missing', 'notakey'].map((p) => `[profile ${p}]\ncredential_process = keysmith secret get aws/${p} --aws-credential-process\n`).join('\n'));
    Object.assign(env, { AWS_CONFIG_FILE: join(home, '.aws', 'config'), AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'), AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' });
  });
  afterAll(() => cleanup());

  const exportCredentials = (profile: string) => runProgram(aws, ['configure', 'export-credentials', '--profile', profile, '--format', 'process'], { env });
  const set = async (name: string, secret: string, fields: string[]) => {
    const r = await runBin(['secret', 'set', name, '-', '--kind', 'aws-credential', ...fields.flatMap((f) => ['--field', f])], { env, input: secret });
    expect(r.code, r.stderr).toBe(0);
  };

  it('a long-lived key: the AWS CLI gets the access key id and the secret access key, nothing else', async () => {
    await set('aws/prod', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', ['aws_access_key_id=AKIAIOSFODNN7EXAMPLE']);
    const r = await exportCredentials('prod');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ Version: 1, AccessKeyId: 'AKIAIOSFODNN7EXAMPLE', SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' });
  });

  it('a session: the session token and the expiration reach the AWS CLI; an expired session is refused with keysmith\'s line', async () => {
    const ends = new Date(Date.now() + 3_600_000);
    ends.setUTCMilliseconds(0);
    await set('aws/session', 'c2VjcmV0LWtleQ', ['aws_access_key_id=ASIAEXAMPLESESSION', 'aws_session_token=FQoGZXIvYXdzEXAMPLE//token', `expiration=${ends.toISOString()}`]);
    const r = await exportCredentials('session');
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout);
    expect(got).toMatchObject({ Version: 1, AccessKeyId: 'ASIAEXAMPLESESSION', SecretAccessKey: 'c2VjcmV0LWtleQ', SessionToken: 'FQoGZXIvYXdzEXAMPLE//token' });
    expect(Date.parse(got.Expiration)).toBe(ends.getTime());

    await set('aws/session', 'c2VjcmV0LWtleQ', ['aws_access_key_id=ASIAEXAMPLESESSION', 'aws_session_token=t', 'expiration=2020-01-01T00:00:00Z']);
    const expired = await exportCredentials('session');
    expect(expired.code).not.toBe(0);
    expect(expired.stderr).toContain('the AWS session in aws/session expired at 2020-01-01T00:00:00.000Z');
    expect(expired.stdout).toBe('');
  });

  it('a missing record and a record that is not an AWS key: the AWS CLI fails with keysmith\'s line, never with an empty key', async () => {
    const missing = await exportCredentials('missing');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/aws\/missing/);
    expect(missing.stdout).toBe('');
    await set('aws/notakey', 'hunter2', []);
    const notKey = await exportCredentials('notakey');
    expect(notKey.code).not.toBe(0);
    expect(notKey.stderr).toContain('aws/notakey is not an AWS key');
    expect(notKey.stderr).not.toContain('hunter2');
    const both = await runBin(['secret', 'get', 'aws/prod', '--aws-credential-process', '--json'], { env });
    expect(both.code).toBe(2);
  });
});
