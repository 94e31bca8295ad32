import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import { join } from 'node:path';
import { generateIdentity } from '../../src/vault/age.js';
import { spawn } from 'node:child_process';
import { BIN, baseEnv } from './cli.js';
import { serverCredentials, testCa } from './tls-servers.js';

export interface TestProvider {
  issuer: string;
  /** PEM of the CA that signed the provider's certificate: give it to keysmith as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  ca: string;
  /** Token requests by grant type, as the provider saw them. */
  grants: Record<string, number>;
  /** Answer the next N device-code polls with slow_down (a fault the client must honour). */
  slowDown(n: number): void;
  /** Corrupt the signature of the next ID token the provider issues. */
  tamperNextIdToken(): void;
  /** Revokes a token at the provider, as an administrator would. */
  revoke(token: string): Promise<void>;
  introspect(token: string): Promise<{ active: boolean }>;
  close(): Promise<void>;
}

/**
 * A real oidc-provider over HTTPS on 127.0.0.1 and a random port, with a test CA: a native public
 * client (auth code + PKCE, refresh, device) and a confidential one (client credentials).
 */
export async function startProvider(dir: string, o: { accessTokenTtl?: number } = {}): Promise<TestProvider> {
  const { default: Provider } = await import('oidc-provider');
  const ca = await testCa('oidc');
  const creds = await serverCredentials(ca, ['127.0.0.1', 'localhost']);
  const caFile = join(dir, 'oidc-ca.pem');
  writeFileSync(caFile, ca.certificatePem);
  const server: Server = createServer(creds);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const issuer = `https://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'cli', token_endpoint_auth_method: 'none', application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback'], response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      },
      { client_id: 'ci', client_secret: 'ci-secret-value', grant_types: ['client_credentials'], response_types: [], redirect_uris: [] },
    ],
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      clientCredentials: { enabled: true },
    },
    scopes: ['openid', 'offline_access', 'profile', 'api'],
    findAccount: async (_ctx: unknown, id: string) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    rotateRefreshToken: true,
    ttl: { AccessToken: o.accessTokenTtl ?? 3600, ClientCredentials: 3600, IdToken: 3600, DeviceCode: 600, RefreshToken: 86400, Interaction: 600, Session: 3600, Grant: 86400 },
  } as never);
  provider.proxy = false;
  const grants: Record<string, number> = {};
  const count = (ctx: { oidc?: { params?: { grant_type?: string } } }) => {
    const g = ctx.oidc?.params?.grant_type ?? '?';
    grants[g] = (grants[g] ?? 0) + 1;
  };
  provider.on('server_error', (_ctx: unknown, err: Error) => process.stderr.write(`oidc-provider server_error: ${err.stack}\n`));
  provider.on('grant.success', count);
  provider.on('grant.error', count);
  let slow = 0;
  let tamper = false;
  // Fault injection: the next token requests answer slow_down (only the device poll runs then).
  provider.use(async (ctx: { method: string; path: string; status: number; body: unknown }, next: () => Promise<void>) => {
    if (slow > 0 && ctx.method === 'POST' && ctx.path === '/token') {
      slow--;
      ctx.status = 400;
      ctx.body = { error: 'slow_down', error_description: 'poll less often' };
      return;
    }
    await next();
    const body = ctx.body as { id_token?: string } | undefined;
    if (tamper && ctx.path === '/token' && body?.id_token) {
      tamper = false;
      const [h, p, sig] = body.id_token.split('.');
      ctx.body = { ...body, id_token: `${h}.${p}.${sig!.startsWith('A') ? 'B' : 'A'}${sig!.slice(1)}` };
    }
  });
  server.on('request', provider.callback());
  return {
    issuer, caFile, ca: ca.certificatePem, grants,
    slowDown: (n) => void (slow = n),
    tamperNextIdToken: () => void (tamper = true),
    async revoke(token) {
      await fetchJson(`${issuer}/token/revocation`, ca.certificatePem, 'POST', `token=${encodeURIComponent(token)}&client_id=cli`, '').catch(() => undefined);
    },
    async introspect(token) {
      const res = await fetchJson(`${issuer}/token/introspection`, ca.certificatePem, 'POST', `token=${encodeURIComponent(token)}`, 'Basic ' + Buffer.from('ci:ci-secret-value').toString('base64'));
      return res as { active: boolean };
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

function fetchJson(url: string, ca: string, method: string, body: string, auth: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (auth) headers.authorization = auth;
    const req = httpsRequest(url, { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve(text ? JSON.parse(text) : {});
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** An environment for keysmith with a fresh file vault in `home` that trusts the provider's CA. */
export async function clientEnv(provider: TestProvider, home: string): Promise<NodeJS.ProcessEnv> {
  return baseEnv({ KEYSMITH_HOME: join(home, 'ks'), KEYSMITH_VAULT: 'file', KEYSMITH_AGE_IDENTITY: await generateIdentity(), NODE_EXTRA_CA_CERTS: provider.caFile });
}

/**
 * Plays the person at the browser without a browser: follows redirects with cookies and submits
 * each form it meets (login as `user`, then consent), until the loopback callback or a page
 * without a form. Returns the last page.
 */
export async function actAsUser(start: string, ca: string, user = 'alice'): Promise<{ url: string; status: number; body: string }> {
  const jar = new Map<string, string>();
  let url = start;
  let method = 'GET';
  let body: string | undefined;
  for (let step = 0; step < 30; step++) {
    const res = await send(url, method, body, ca, jar);
    if (res.status >= 300 && res.status < 400 && res.location) {
      url = new URL(res.location, url).href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const formTag = /<form[^>]*>/i.exec(res.body)?.[0];
    const action = formTag && /method="post"/i.test(formTag) ? /action="([^"]*)"/i.exec(formTag)?.[1] : undefined;
    if (action === undefined || url.startsWith('http://127.0.0.1')) return { url, status: res.status, body: res.body };
    const fields = new URLSearchParams();
    for (const [tag] of res.body.matchAll(/<input[^>]*>/gi)) {
      const name = /name="([^"]+)"/.exec(tag)?.[1];
      if (name) fields.set(name, /value="([^"]*)"/.exec(tag)?.[1] ?? '');
    }
    if (fields.has('login')) fields.set('login', user);
    if (fields.has('password')) fields.set('password', 'any');
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    method = 'POST';
    body = fields.toString();
  }
  throw new Error('the login did not finish');
}

function send(url: string, method: string, body: string | undefined, ca: string, jar: Map<string, string>): Promise<{ status: number; location?: string; body: string }> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  return new Promise((resolve, reject) => {
    const req = request(u, { method, headers, ...(u.protocol === 'https:' ? { ca } : {}) }, (res) => {
      for (const c of res.headers['set-cookie'] ?? []) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
      }
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ...(res.headers.location ? { location: res.headers.location } : {}), body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Starts `keysmith oauth login`, waits for the URL it prints, and hands it to `act`. */
export async function loginWith(env: NodeJS.ProcessEnv, args: string[], act: (stderrSoFar: string) => Promise<unknown>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(process.execPath, [BIN, 'oauth', 'login', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const acted = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/https:\/\/\S+/.test(stderr) && !acted.started) {
        acted.started = true;
        act(stderr).then(() => resolve(), reject);
      }
    });
  }) as Promise<void> & { started?: boolean };
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (acted.started) await acted;
  return { code, stderr, stdout };
}
