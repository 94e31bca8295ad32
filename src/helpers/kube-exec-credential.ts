import { UsageError } from '../errors.js';
import type { SecretRecord } from '../vault/types.js';

/**
 * kubectl's client-go credential plugin contract (k8s.io/client-go/pkg/apis/clientauthentication):
 * kubectl runs the plugin with `KUBERNETES_EXEC_INFO` = an ExecCredential naming the API version it
 * wants and whether a person is there (`spec.interactive`); the plugin prints an ExecCredential of
 * that version with `status.token` and `status.expirationTimestamp`, and kubectl keeps the token
 * until then (or until the API server answers 401).
 */

export const EXEC_CREDENTIAL_VERSIONS = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'] as const;
export type ExecCredentialVersion = (typeof EXEC_CREDENTIAL_VERSIONS)[number];

export interface ExecInfo {
  apiVersion: ExecCredentialVersion;
  /** kubectl says a person can answer a prompt (its stdin is a terminal and interactiveMode allows it). */
  interactive: boolean;
}

/**
 * What kubectl asks for. Without `KUBERNETES_EXEC_INFO` (a kubectl before 1.22, or a person trying
 * the command), v1beta1, the version every kubectl since 1.11 reads, and not interactive.
 */
export function execInfo(env: NodeJS.ProcessEnv): ExecInfo {
  const text = env.KUBERNETES_EXEC_INFO;
  if (text === undefined || text.trim() === '') return { apiVersion: 'client.authentication.k8s.io/v1beta1', interactive: false };
  let info: { apiVersion?: unknown; kind?: unknown; spec?: { interactive?: unknown } };
  try {
    info = JSON.parse(text) as typeof info;
  } catch {
    throw new UsageError('KUBERNETES_EXEC_INFO is not JSON: kubectl sets it to an ExecCredential', undefined, 'ERR_KUBE_EXEC_INFO');
  }
  if (info === null || typeof info !== 'object' || info.kind !== 'ExecCredential') {
    throw new UsageError('KUBERNETES_EXEC_INFO is not an ExecCredential', undefined, 'ERR_KUBE_EXEC_INFO');
  }
  const apiVersion = EXEC_CREDENTIAL_VERSIONS.find((v) => v === info.apiVersion);
  if (!apiVersion) {
    throw new UsageError(`kubectl asks for ExecCredential ${JSON.stringify(String(info.apiVersion).slice(0, 80))}; keysmith answers ${EXEC_CREDENTIAL_VERSIONS.join(' and ')}`, { hint: 'set users[].user.exec.apiVersion to client.authentication.k8s.io/v1 in the kubeconfig' }, 'ERR_KUBE_EXEC_INFO');
  }
  return { apiVersion, interactive: info.spec?.interactive === true };
}

export interface ExecCredentialStatus {
  token?: string;
  /** PEM, for a client certificate instead of (or beside) a token. */
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** The ExecCredential kubectl reads: the token (or client certificate), and when it ends (RFC 3339) if known, so kubectl keeps it until then. */
export function execCredential(apiVersion: ExecCredentialVersion, credential: Omit<ExecCredentialStatus, 'expirationTimestamp'>, expiresAt?: string): string {
  const status: ExecCredentialStatus = { ...credential };
  // Whole seconds: client-go reads a metav1.Time, RFC 3339 without fractions.
  if (expiresAt) status.expirationTimestamp = new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `${JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: {}, status })}\n`;
}

/** A record as kubectl's credential: its value the token, or the PEM fields clientCertificateData and clientKeyData. */
export function kubeCredential(name: string, record: SecretRecord): Omit<ExecCredentialStatus, 'expirationTimestamp'> {
  const out: Omit<ExecCredentialStatus, 'expirationTimestamp'> = {};
  if (record.value && record.encoding !== 'base64') out.token = record.value;
  const { clientCertificateData, clientKeyData } = record.fields;
  if (clientCertificateData && clientKeyData) Object.assign(out, { clientCertificateData, clientKeyData });
  if (!out.token && !out.clientKeyData) {
    throw new UsageError(`${name} is neither a token nor a client certificate and key (fields clientCertificateData, clientKeyData)`, undefined, 'ERR_KUBE_NOT_A_CREDENTIAL');
  }
  return out;
}
