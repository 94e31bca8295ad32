import { AuthError, UsageError } from '../errors.js';
import type { SecretRecord } from '../vault/types.js';
import { valueBytes } from '../vault/record.js';

/**
 * The AWS `credential_process` contract (AWS SDKs and CLI, "Sourcing credentials with an external
 * process"): print `{Version: 1, AccessKeyId, SecretAccessKey, SessionToken?, Expiration?}`.
 *
 * A record holds them as `~/.aws/credentials` names them: the secret access key is the value (or
 * the field `aws_secret_access_key`), the fields `aws_access_key_id`, `aws_session_token` and
 * `expiration`. The SDK's own names (AccessKeyId, …) are read too.
 */

/** A field of the record by its credentials-file or SDK name: `aws_access_key_id`, `AccessKeyId`, `accessKeyId`. */
function field(record: SecretRecord, name: 'accesskeyid' | 'secretaccesskey' | 'sessiontoken' | 'expiration'): string | undefined {
  for (const [key, value] of Object.entries(record.fields)) {
    if (key.toLowerCase().replace(/_/g, '').replace(/^aws/, '') === name && value !== '') return value;
  }
  return undefined;
}

export function awsCredentialProcess(name: string, record: SecretRecord, now: Date): string {
  const accessKeyId = field(record, 'accesskeyid');
  const secretAccessKey = field(record, 'secretaccesskey') ?? valueBytes(record).toString('utf8');
  if (!accessKeyId || !secretAccessKey) {
    throw new UsageError(`${name} is not an AWS key: it needs the field aws_access_key_id and the secret access key as its value`, {
      hint: `printf %s "$AWS_SECRET_ACCESS_KEY" | keysmith secret set ${name} - --kind aws-credential --field aws_access_key_id=AKIA…`,
    }, 'ERR_AWS_NOT_A_KEY');
  }
  const out: Record<string, string | number> = { Version: 1, AccessKeyId: accessKeyId, SecretAccessKey: secretAccessKey };
  const sessionToken = field(record, 'sessiontoken');
  if (sessionToken) out.SessionToken = sessionToken;
  const expiration = field(record, 'expiration');
  if (expiration) {
    const ends = new Date(expiration);
    if (Number.isNaN(ends.getTime())) throw new UsageError(`${name}: expiration ${JSON.stringify(expiration.slice(0, 40))} is not an ISO 8601 time`, undefined, 'ERR_AWS_NOT_A_KEY');
    // Handing out a key the SDK would at once call expired makes it ask again and again.
    if (ends.getTime() <= now.getTime()) throw new AuthError(`the AWS session in ${name} expired at ${ends.toISOString()}`, { hint: `store new credentials in ${name}` }, 'ERR_AWS_EXPIRED');
    out.Expiration = ends.toISOString();
  }
  return `${JSON.stringify(out)}\n`;
}
