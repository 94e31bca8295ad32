/**
 * The shapes config.json keeps about OAuth providers, apart from the code that reads and writes
 * them: config.ts, providers.ts and client.ts all need them, and none of them should need another.
 */

export type Grant = 'auth-code' | 'device' | 'client-credentials';

/** How the client proves who it is (RFC 6749 §2.3, RFC 8414 §2). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

/** What config.json keeps about a provider: settings and discovered endpoints, never a secret. */
export interface ProviderConfig {
  issuer: string;
  clientId: string;
  scope: string;
  audience?: string;
  grant: Grant;
  preset?: string;
  /** How the client authenticates (`oauth add --auth-method`); absent: chosen from the metadata. */
  authMethod?: ClientAuthMethod;
  /** A fixed loopback port for the redirect URI (`oauth add --redirect-port`), for providers that match redirect URIs exactly. */
  redirectPort?: number;
  /** Discovered (or preset) authorization-server metadata, so a refresh needs no discovery round trip. */
  server: Record<string, unknown>;
}
