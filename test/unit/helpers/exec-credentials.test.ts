import { describe, expect, it } from 'vitest';
import { awsCredentialProcess } from '../../../src/helpers/aws-credential-process.js';
import { execCredential, execInfo } from '../../../src/helpers/kube-exec-credential.js';
import type { SecretRecord } from '../../../src/vault/types.js';

const record = (value: string, fields: Record<string, string>): SecretRecord => ({ kind: 'aws-credential', value, fields, created: '', updated: '' });
const now = new Date('2026-11-27T00:00:00Z');

describe('kubectl ExecCredential', () => {
  it('answers the version kubectl asks for; v1beta1 when it says nothing; interactive only when it says so', () => {
    const info = (apiVersion: string, interactive?: unknown) => ({ KUBERNETES_EXEC_INFO: JSON.stringify({ kind: 'ExecCredential', apiVersion, spec: interactive === undefined ? {} : { interactive } }) });
    expect(execInfo({})).toEqual({ apiVersion: 'client.authentication.k8s.io/v1beta1', interactive: false });
    expect(execInfo(info('client.authentication.k8s.io/v1', true))).toEqual({ apiVersion: 'client.authentication.k8s.io/v1', interactive: true });
    expect(execInfo(info('client.authentication.k8s.io/v1beta1', 'true'))).toEqual({ apiVersion: 'client.authentication.k8s.io/v1beta1', interactive: false });
    for (const bad of ['{', 'null', '[]', '{"apiVersion":"client.authentication.k8s.io/v1"}', JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1alpha1' })]) {
      expect(() => execInfo({ KUBERNETES_EXEC_INFO: bad }), bad).toThrow(/KUBERNETES_EXEC_INFO|ExecCredential/);
    }
  });

  it('prints the token and its end in whole seconds (rounded down), or no end when none is known', () => {
    expect(JSON.parse(execCredential('client.authentication.k8s.io/v1', { token: 't0k' }, '2026-11-27T10:00:00.999Z'))).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: {}, status: { token: 't0k', expirationTimestamp: '2026-11-27T10:00:00Z' },
    });
    expect(JSON.parse(execCredential('client.authentication.k8s.io/v1beta1', { token: 't0k' })).status).toEqual({ token: 't0k' });
  });
});

describe('AWS credential_process', () => {
  it('reads the credentials-file names and the SDK names; the value is the secret access key unless a field says otherwise', () => {
    expect(JSON.parse(awsCredentialProcess('aws/a', record('S3CRET', { aws_access_key_id: 'AKIA1' }), now))).toEqual({ Version: 1, AccessKeyId: 'AKIA1', SecretAccessKey: 'S3CRET' });
    expect(JSON.parse(awsCredentialProcess('aws/a', record('', { AccessKeyId: 'AKIA2', SecretAccessKey: 'S2', SessionToken: 'T', Expiration: '2026-11-27T01:00:00Z' }), now)))
      .toEqual({ Version: 1, AccessKeyId: 'AKIA2', SecretAccessKey: 'S2', SessionToken: 'T', Expiration: '2026-11-27T01:00:00.000Z' });
  });

  it('refuses a record without a key id or secret, a bad expiration and an expired session, never printing the secret', () => {
    expect(() => awsCredentialProcess('aws/a', record('S3CRET', {}), now)).toThrow(/aws\/a is not an AWS key/);
    expect(() => awsCredentialProcess('aws/a', record('', { aws_access_key_id: 'AKIA1' }), now)).toThrow(/not an AWS key/);
    expect(() => awsCredentialProcess('aws/a', record('S3CRET', { aws_access_key_id: 'AKIA1', expiration: 'soon' }), now)).toThrow(/not an ISO 8601 time/);
    expect(() => awsCredentialProcess('aws/a', record('S3CRET', { aws_access_key_id: 'AKIA1', expiration: '2026-11-27T00:00:00Z' }), now)).toThrow(/expired at 2026-11-27T00:00:00.000Z/);
    try {
      awsCredentialProcess('aws/a', record('S3CRET', {}), now);
    } catch (err) {
      expect(String(err)).not.toContain('S3CRET');
    }
  });
});
