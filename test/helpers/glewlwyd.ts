import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { serverCredentials, testCa } from './tls-servers.js';

/**
 * glewlwyd (Debian package `glewlwyd`, 2.7.x, C, sqlite): a second, independent OpenID provider
 * for the OAuth tests, over HTTPS with a test CA on 127.0.0.1 and a free port, in `dir`.
 *
 * Set up through its own config file (port, TLS, sqlite database, module paths) and its admin REST
 * API (log in as `admin`, then scopes, the `oidc` plugin, users, clients). The database schema
 * (and the `admin` user with the `database` user and client backends) comes from the SQL script
 * the package ships for dbconfig-common.
 *
 * What keysmith must know about it (see test/integration/glewlwyd-provider.test.ts):
 * - issuer `https://127.0.0.1:PORT/api/oidc`, discovery at `<issuer>/.well-known/openid-configuration`;
 * - redirect URIs match exactly (no free loopback port, RFC 8252 §7.3 unmet): register the port;
 * - each client has ONE token endpoint auth method (`token_endpoint_auth_method`) though discovery
 *   advertises client_secret_basic and client_secret_post for all; another method is 403, empty body;
 * - revocation and introspection take client_secret_basic (or a bearer token with a scope), never a
 *   public client's bare client_id (RFC 7009 §2.1);
 * - token endpoint refusals are often an empty body with 400/403 instead of JSON (RFC 6749 §5.2).
 */

export const GLEWLWYD_BIN = 'glewlwyd';
/** The schema + bootstrap data (admin/password, database user and client backends) the package ships. */
const INIT_SQL = ['/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3', '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz'];
const MODULES = '/usr/lib/glewlwyd';
const ADMIN = { username: 'admin', password: 'password' };
/** Scopes clients ask for. Users also get `g_profile`: without it they cannot call the grant API (consent). */
const SCOPES = ['openid', 'offline_access', 'profile', 'api'];
/** A scope for the helper's own bearer token, which may introspect and revoke any token. */
const INTROSPECT_SCOPE = 'introspect';
const USERS = [['alice', 'Alice'], ['bob', 'Bob'], ['carol', 'Carol']] as const;

export interface GlewlwydClient {
  clientId: string;
  clientSecret?: string;
  /** What glewlwyd accepts from this client at the token endpoint (one method per client). */
  authMethod: 'none' | 'client_secret_basic' | 'client_secret_post';
  redirectUris: string[];
}

export interface GlewlwydUser {
  username: string;
  password: string;
}

export interface GlewlwydProvider {
  /** `https://127.0.0.1:PORT/api/oidc`; discovery at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /** PEM file of the CA that signed the server certificate: NODE_EXTRA_CA_CERTS for keysmith. */
  caFile: string;
  ca: string;
  port: number;
  clients: {
    /** Public native client: PKCE, refresh (one-use), device flow. Redirect URIs are matched exactly. */
    cli: GlewlwydClient & { redirectPort: number };
    /** Confidential, client credentials, client_secret_basic only. */
    basic: GlewlwydClient;
    /** Confidential, client credentials, client_secret_post only. */
    post: GlewlwydClient;
    /** Like `basic`, with '-', '.' and '_' in its secret: fails with RFC 6749 §2.3.1 Basic encoding. */
    basicSymbols: GlewlwydClient;
  };
  user: GlewlwydUser;
  users: Record<string, GlewlwydUser>;
  logFile: string;
  /**
   * Plays the user at the browser through glewlwyd's real login API: password login (POST
   * /api/auth), consent (PUT /api/auth/grant/CLIENT), then the authorization URL again with
   * `g_continue`. Returns the redirect Location: the callback URL with code and state (or error).
   */
  login(authorizationUrl: string, username?: string): Promise<string>;
  /**
   * Like the oidc-provider helper's actAsUser: logs in (authorization or device verification URL)
   * and follows the result; for an authorization URL it GETs the callback URL (keysmith's loopback
   * listener) and returns that page.
   */
  actAsUser(url: string, username?: string): Promise<{ url: string; status: number; body: string }>;
  /** Approves a device authorization (RFC 8628) as the user: the user code as shown. */
  approveDevice(userCode: string, username?: string): Promise<void>;
  /** Revokes a token as an administrator (bearer token with the introspect scope). */
  revoke(token: string): Promise<void>;
  introspect(token: string): Promise<{ active: boolean; [k: string]: unknown }>;
  close(): Promise<void>;
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, ca: string, options: { method?: string; body?: string; type?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(u, { method: options.method ?? 'GET', headers, ...(u.protocol === 'https:' ? { ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A browser's cookie jar for one host, enough for glewlwyd's session cookie. */
class Session {
  private jar = new Map<string, string>();
  constructor(private ca: string) {}
  async send(url: string, options: { method?: string; body?: string; type?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
    const cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await send(url, this.ca, { ...options, headers: { ...options.headers, ...(cookie ? { cookie } : {}) } });
    const set = res.headers['set-cookie'];
    for (const c of Array.isArray(set) ? set : set ? [set] : []) {
      const pair = c.split(';')[0]!;
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }
  async json(method: string, url: string, body?: unknown): Promise<Reply> {
    const res = await this.send(url, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (res.status !== 200) throw new Error(`glewlwyd: ${method} ${new URL(url).pathname} answered ${res.status} ${res.body}`);
    return res;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function initSql(): string {
  for (const f of INIT_SQL) {
    if (existsSync(f)) return f.endsWith('.gz') ? gunzipSync(readFileSync(f)).toString() : readFileSync(f, 'utf8');
  }
  throw new Error(`glewlwyd: none of ${INIT_SQL.join(', ')} exists (apt-get install glewlwyd)`);
}

function config(port: number, files: { key: string; cert: string; db: string; log: string }): string {
  // libconfig syntax. No `user`: glewlwyd runs as whoever starts it (root in CI is fine).
  return `port=${port}
bind_address="127.0.0.1"
external_url="https://127.0.0.1:${port}"
login_url="login.html"
api_prefix="api"
allow_origin="*"
log_mode="file"
log_level="DEBUG"
log_file="${files.log}"
cookie_secure=1
cookie_same_site="empty"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
plugin_api_run_enabled=""
add_x_frame_option_header_deny=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES}/user"
client_module_path="${MODULES}/client"
user_auth_scheme_module_path="${MODULES}/scheme"
plugin_module_path="${MODULES}/plugin"
use_secure_connection=true
secure_connection_key_file="${files.key}"
secure_connection_pem_file="${files.cert}"
hash_algorithm="SHA512"
database = { type = "sqlite3" path = "${files.db}" };
`;
}

/** Starts glewlwyd once on a free port; resolves when its API answers, rejects if it exits first. */
async function launch(dir: string, ca: string, files: { key: string; cert: string; db: string; log: string }): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const conf = join(dir, 'glewlwyd.conf');
  writeFileSync(conf, config(port, files), { mode: 0o600 });
  writeFileSync(files.log, '');
  const child = spawn(GLEWLWYD_BIN, ['--config-file', conf], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited: string | undefined;
  child.on('exit', (code, signal) => (exited = `exited (${code ?? signal}) ${stderr}`));
  child.on('error', (err) => (exited = String(err)));
  for (let i = 0; i < 100; i++) {
    if (exited) throw new Error(`glewlwyd ${exited}\n${readFileSync(files.log, 'utf8').slice(-2000)}`);
    const ok = await send(`https://127.0.0.1:${port}/config`, ca).then((r) => r.status === 200, () => false);
    if (ok) return { child, port };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`glewlwyd did not answer on port ${port}\n${readFileSync(files.log, 'utf8').slice(-2000)}`);
}

export async function startGlewlwyd(dir: string, options: { redirectUris?: string[] } = {}): Promise<GlewlwydProvider> {
  const ca = await testCa('glewlwyd');
  const creds = await serverCredentials(ca, ['127.0.0.1', 'localhost']);
  const caFile = join(dir, 'glewlwyd-ca.pem');
  const files = { key: join(dir, 'glewlwyd-key.pem'), cert: join(dir, 'glewlwyd-cert.pem'), db: join(dir, 'glewlwyd.sqlite3'), log: join(dir, 'glewlwyd.log') };
  writeFileSync(caFile, ca.certificatePem);
  writeFileSync(files.key, creds.key, { mode: 0o600 });
  writeFileSync(files.cert, creds.cert);
  execFileSync('sqlite3', [files.db], { input: initSql(), stdio: ['pipe', 'ignore', 'pipe'] });
  // glewlwyd's `sub` is a random 32-character string made at the user's first login; seed it as the
  // username, as the oidc-provider helper's (so the same assertions hold for both providers).
  const seed = USERS.map(([u]) => `INSERT INTO gpo_subject_identifier (gposi_plugin_name, gposi_username, gposi_sub) VALUES ('oidc', '${u}', '${u}');`).join('\n');
  execFileSync('sqlite3', [files.db], { input: seed, stdio: ['pipe', 'ignore', 'pipe'] });

  // The port is chosen before glewlwyd binds it: if another process takes it meanwhile, try again.
  let launched: { child: ChildProcess; port: number } | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 3 && !launched; attempt++) {
    launched = await launch(dir, ca.certificatePem, files).catch((err) => void (lastError = err));
  }
  if (!launched) throw lastError;
  const { child, port } = launched;
  const stop = () => void child.kill('SIGKILL');
  process.once('exit', stop);
  const base = `https://127.0.0.1:${port}`;
  const api = `${base}/api`;
  const issuer = `${api}/oidc`;
  const caPem = ca.certificatePem;

  try {
    const admin = new Session(caPem);
    await admin.json('POST', `${api}/auth/`, ADMIN);
    for (const name of [...SCOPES.filter((s) => s !== 'openid'), INTROSPECT_SCOPE]) {
      await admin.json('POST', `${api}/scope/`, { name, display_name: name, description: name, password_required: false, password_max_age: 0, scheme: {} });
    }
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'sig-1', alg: 'RS256', use: 'sig' };
    await admin.json('POST', `${api}/mod/plugin/`, {
      module: 'oidc',
      name: 'oidc',
      display_name: 'OpenID Connect',
      enabled: true,
      parameters: {
        iss: issuer,
        'jwks-private': JSON.stringify({ keys: [jwk] }),
        'default-kid': 'sig-1',
        'jwks-show': true,
        'subject-type': 'public',
        'allowed-scope': SCOPES,
        'access-token-duration': 3600,
        'refresh-token-duration': 86400,
        'code-duration': 600,
        // Rotation: every refresh answers a new refresh token and disables the one used.
        'refresh-token-rolling': true,
        'refresh-token-one-use': 'always',
        // Needed for client_credentials (glewlwyd calls it a non-OIDC OAuth2 grant).
        'allow-non-oidc': true,
        'auth-type-code-enabled': true,
        'auth-type-code-revoke-replayed': true,
        'auth-type-refresh-enabled': true,
        'auth-type-client-enabled': true,
        'auth-type-device-enabled': true,
        'auth-type-token-enabled': false,
        'auth-type-id-token-enabled': false,
        'auth-type-none-enabled': false,
        'auth-type-password-enabled': false,
        'pkce-allowed': true,
        'pkce-method-plain-allowed': false,
        'pkce-required-public-client': true,
        'introspection-revocation-allowed': true,
        'introspection-revocation-allow-target-client': true,
        'introspection-revocation-auth-scope': [INTROSPECT_SCOPE],
        'session-management-allowed': true,
        'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
        'session-cookie-expiration': 3600,
        'device-authorization-expiration': 600,
        'device-authorization-interval': 1,
        'name-claim': 'on-demand',
        'email-claim': 'on-demand',
      },
    });
    const users: Record<string, GlewlwydUser> = {};
    for (const [username, name] of USERS) {
      users[username] = { username, password: `${username}-password-1` };
      await admin.json('POST', `${api}/user/`, { username, password: users[username].password, name, email: `${username}@example.test`, enabled: true, scope: [...SCOPES, 'g_profile'] });
    }
    const redirectPort = await freePort();
    const cli = {
      clientId: 'cli',
      authMethod: 'none' as const,
      redirectPort,
      redirectUris: ['http://127.0.0.1/callback', `http://127.0.0.1:${redirectPort}/callback`, ...(options.redirectUris ?? [])],
    };
    await admin.json('POST', `${api}/client/`, {
      client_id: cli.clientId, name: 'keysmith (public, native)', confidential: false, enabled: true,
      redirect_uri: cli.redirectUris, authorization_type: ['code', 'refresh_token', 'device_authorization'], scope: SCOPES,
    });
    // Letters and digits only: glewlwyd does not form-urldecode HTTP Basic credentials (RFC 6749
    // §2.3.1), and openid-client encodes '-', '.', '_', '~' and more; `basicSymbols` shows that.
    const basic: GlewlwydClient = { clientId: 'ci', clientSecret: 'ciSecretValue1', authMethod: 'client_secret_basic', redirectUris: [] };
    const post: GlewlwydClient = { clientId: 'cipost', clientSecret: 'ciPostSecretValue1', authMethod: 'client_secret_post', redirectUris: [] };
    const basicSymbols: GlewlwydClient = { clientId: 'cisymbols', clientSecret: 'ci-secret.value_1', authMethod: 'client_secret_basic', redirectUris: [] };
    for (const c of [basic, post, basicSymbols]) {
      await admin.json('POST', `${api}/client/`, {
        client_id: c.clientId, name: `${c.clientId} (${c.authMethod})`, confidential: true, enabled: true, client_secret: c.clientSecret,
        token_endpoint_auth_method: [c.authMethod], authorization_type: ['client_credentials'], scope: ['api', 'profile'], redirect_uri: [],
      });
    }
    // The helper's own confidential client: its client-credentials token (scope `introspect`) is
    // the bearer credential that may introspect and revoke any token, as an administrator would.
    const admin2 = { clientId: 'testadmin', clientSecret: 'testAdminSecret1' };
    await admin.json('POST', `${api}/client/`, {
      client_id: admin2.clientId, name: 'test administrator', confidential: true, enabled: true, client_secret: admin2.clientSecret,
      token_endpoint_auth_method: ['client_secret_basic'], authorization_type: ['client_credentials'], scope: [INTROSPECT_SCOPE], redirect_uri: [],
    });

    const basicAuth = (id: string, secret: string) => 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
    let adminToken: { value: string; until: number } | undefined;
    const bearer = async () => {
      if (!adminToken || adminToken.until < Date.now()) {
        const res = await send(`${issuer}/token`, caPem, {
          method: 'POST', type: 'application/x-www-form-urlencoded', body: `grant_type=client_credentials&scope=${INTROSPECT_SCOPE}`,
          headers: { authorization: basicAuth(admin2.clientId, admin2.clientSecret) },
        });
        if (res.status !== 200) throw new Error(`glewlwyd: the helper's token: ${res.status} ${res.body}`);
        adminToken = { value: JSON.parse(res.body).access_token, until: Date.now() + 30 * 60_000 };
      }
      return `Bearer ${adminToken.value}`;
    };

    /** Log in `username` in a fresh browser session; grant what the login page asks for. */
    const signIn = async (url: string, username: string) => {
      const who = users[username];
      if (!who) throw new Error(`glewlwyd helper: no user ${username}`);
      const browser = new Session(caPem);
      // Without `g_continue`, glewlwyd sends the browser to its login page with what to ask.
      const first = await browser.send(url);
      const location = first.headers.location as string | undefined;
      if (first.status !== 302 || !location) throw new Error(`glewlwyd: ${new URL(url).pathname} answered ${first.status} ${first.body.slice(0, 200)}`);
      const login = new URL(location, url);
      if (!login.pathname.endsWith('/login.html')) return { browser, location: login.href, done: true };
      await browser.json('POST', `${api}/auth/`, who);
      const clientId = login.searchParams.get('client_id');
      const scope = login.searchParams.get('scope');
      // Consent: the grant API takes the scopes separated by spaces (its documentation says commas).
      if (clientId && scope) await browser.json('PUT', `${api}/auth/grant/${encodeURIComponent(clientId)}`, { scope });
      return { browser, location: login.searchParams.get('callback_url') ?? url, done: false };
    };
    const withContinue = (url: string) => `${url}${url.includes('?') ? '&' : '?'}g_continue`;

    const login = async (authorizationUrl: string, username = 'alice') => {
      const step = await signIn(authorizationUrl, username);
      if (step.done) return step.location;
      const res = await step.browser.send(withContinue(step.location));
      const location = res.headers.location as string | undefined;
      if (res.status !== 302 || !location) throw new Error(`glewlwyd: the authorization answered ${res.status} ${res.body.slice(0, 200)}`);
      return new URL(location, authorizationUrl).href;
    };

    const approveDevice = async (userCode: string, username = 'alice') => {
      const url = `${issuer}/device?code=${encodeURIComponent(userCode)}`;
      const step = await signIn(url, username);
      const res = step.done ? undefined : await step.browser.send(withContinue(url));
      const prompt = res?.headers.location ? new URL(res.headers.location as string, url).searchParams.get('prompt') : new URL(step.location).searchParams.get('prompt');
      if (prompt !== 'deviceComplete') throw new Error(`glewlwyd: the device approval ended with prompt=${prompt}`);
    };

    const form = async (path: string, body: Record<string, string>) =>
      send(`${issuer}/${path}`, caPem, { method: 'POST', type: 'application/x-www-form-urlencoded', body: new URLSearchParams(body).toString(), headers: { authorization: await bearer() } });

    let closed: Promise<void> | undefined;
    return {
      issuer, caFile, ca: caPem, port, user: users.alice!, users, logFile: files.log,
      clients: { cli, basic, post, basicSymbols },
      login,
      async actAsUser(url, username = 'alice') {
        const u = new URL(url);
        if (u.pathname.endsWith('/device')) {
          const code = u.searchParams.get('code');
          if (!code) throw new Error('glewlwyd helper: a device URL without its user code (give approveDevice the code)');
          await approveDevice(code, username);
          return { url, status: 200, body: 'device approved: success' };
        }
        const callback = await login(url, username);
        const res = await send(callback, caPem);
        return { url: callback, status: res.status, body: res.body };
      },
      approveDevice,
      async revoke(token) {
        const res = await form('revoke', { token });
        if (res.status !== 200) throw new Error(`glewlwyd: revocation answered ${res.status} ${res.body}`);
      },
      async introspect(token) {
        const res = await form('introspect', { token });
        if (res.status !== 200) throw new Error(`glewlwyd: introspection answered ${res.status} ${res.body}`);
        return JSON.parse(res.body);
      },
      close() {
        closed ??= new Promise<void>((resolve) => {
          process.removeListener('exit', stop);
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(timer);
            // Its log outlives the temp dir when asked (debugging a failure).
            if (process.env.KEYSMITH_GLEWLWYD_LOG) copyFileSync(files.log, process.env.KEYSMITH_GLEWLWYD_LOG);
            resolve();
          });
          child.kill('SIGTERM');
        });
        return closed;
      },
    };
  } catch (err) {
    stop();
    process.removeListener('exit', stop);
    throw new Error(`${(err as Error).message}\n--- glewlwyd log ---\n${readFileSync(files.log, 'utf8').slice(-3000)}`);
  }
}
