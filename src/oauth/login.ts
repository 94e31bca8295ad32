import { spawn } from 'node:child_process';
import { childEnvironment } from '../child-env.js';
import { escapeHtml, printable } from '../text.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthError, FailedError, UsageError, type NoticeDetail, type RedirectDetail } from '../errors.js';
import type { Vault } from '../vault/types.js';
import { clientFor, loadClient, oauthError } from './client.js';
import { redirectUriFor, type ProviderConfig } from './providers.js';
import { fromResponse, grantParameters, readTokens, writeTokens, type StoredTokens } from './tokens.js';

export interface LoginOptions {
  device: boolean;
  /** Print the URL instead of opening a browser. */
  noBrowser: boolean;
  /** The loopback port of the redirect URI: 0 for any free one, else fixed (`--port`, `oauth add --redirect-port`). */
  port: number;
  timeoutMs: number;
  now: () => Date;
  /** Lines for the person logging in (stderr); a line with `detail` says it as data too (the CLI words those its own way). */
  tell: (line: string, detail?: NoticeDetail) => void;
  /** stderr is a terminal: the device flow also draws its URL as a QR code. */
  terminal?: boolean;
  env: NodeJS.ProcessEnv;
  /** A fetch of our choosing (tests). */
  fetch?: typeof globalThis.fetch;
}

const page = (title: string, text: string) =>
  `<!doctype html><meta charset="utf-8"><title>keysmith: ${escapeHtml(title)}</title><body style="font-family:sans-serif;margin:4em auto;max-width:32em"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body>`;

/** Whether a browser can be opened here: a terminal and, on Linux, a display. */
export function canOpenBrowser(env: NodeJS.ProcessEnv, tty: boolean): boolean {
  if (!tty) return false;
  return process.platform !== 'linux' || !!(env.DISPLAY || env.WAYLAND_DISPLAY || env.BROWSER);
}

/** Opens `url` in the browser; the browser gets no KEYSMITH_* credential. */
export function openBrowser(url: string, env: NodeJS.ProcessEnv): void {
  const [cmd, args] = env.BROWSER ? [env.BROWSER, [url]] : process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd, args, { stdio: 'ignore', detached: true, env: childEnvironment(env) });
  child.on('error', () => undefined);
  child.unref();
}

const isLoopback = (address: string | undefined) => !!address && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));

/**
 * Authorization code with PKCE (S256) to a one-shot listener on 127.0.0.1 (RFC 8252): state and
 * nonce checked, the ID token validated by openid-client. A callback with a wrong state is
 * answered 400 and the listener keeps waiting, until the timeout.
 */
async function authorizationCode(name: string, provider: ProviderConfig, secret: string | undefined, o: LoginOptions) {
  const oidc = await loadClient();
  const client = await clientFor(provider, secret, o.fetch ? { fetch: o.fetch } : {});
  // Check the ID token's signature too (against the provider's JWKS), not only its claims.
  if (provider.server.jwks_uri) oidc.enableNonRepudiationChecks(client);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const openid = provider.scope.split(/\s+/).includes('openid');
  const nonce = openid ? oidc.randomNonce() : undefined;
  let settle!: { resolve: (url: URL) => void; reject: (err: Error) => void };
  const callback = new Promise<URL>((resolve, reject) => (settle = { resolve, reject }));
  // Not `import … from 'node:http'`: an ES import of it costs ~22 ms on Node 22 and 24 (its
  // namespace reads http's lazy getters, which load undici), on every command that bundles it.
  const { createServer } = process.getBuiltinModule('node:http');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as { port: number }).port;
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    const send = (status: number, title: string, text: string) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(page(title, text));
    if (!isLoopback(req.socket.remoteAddress)) return send(403, 'Refused', 'Only this machine may answer.');
    // DNS rebinding: a page from another site that resolves to 127.0.0.1 still sends its own Host.
    if (![`127.0.0.1:${port}`, `localhost:${port}`].includes((req.headers.host ?? '').toLowerCase())) return send(421, 'Refused', 'This listener answers only http://127.0.0.1 on its own port.');
    if (url.pathname !== '/callback') return send(404, 'Not found', '');
    if (url.searchParams.get('state') !== state) return send(400, 'Login failed', 'The response does not belong to this login (state mismatch). You can close this page.');
    const error = url.searchParams.get('error');
    if (error) {
      send(400, 'Login failed', `The provider said: ${error}. You can close this page.`);
      // The provider's words reach the terminal without control characters (no forged lines or colours).
      const description = url.searchParams.get('error_description');
      return settle.reject(new AuthError(`the provider refused the login (${printable(error)}${description ? `: ${printable(description)}` : ''})`, undefined, 'ERR_OAUTH_REJECTED'));
    }
    send(200, 'Logged in', 'keysmith has your login. You can close this page.');
    settle.resolve(url);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(o.port, '127.0.0.1', resolve));
  const redirectUri = redirectUriFor((server.address() as { port: number }).port);
  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    ...grantParameters({ scope: provider.scope }),
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  };
  if (nonce) params.nonce = nonce;
  if (provider.scope.split(/\s+/).includes('offline_access')) params.prompt = 'consent';
  if (provider.audience) params.audience = provider.audience;
  const url = oidc.buildAuthorizationUrl(client, params).href;
  // A provider that refuses the redirect URI shows the person an error page and never calls back:
  // all keysmith would see is the timeout, so its hint names the redirect URI to register.
  const redirect: RedirectDetail = { provider: name, clientId: provider.clientId, redirectUri: o.port !== 0 ? redirectUri : redirectUriFor('PORT'), fixedPort: o.port !== 0 };
  const advice = redirectAdvice(redirect);
  const timer = setTimeout(() => settle.reject(new FailedError(`no login within ${Math.round(o.timeoutMs / 1000)} s`, {
    hint: `try again, or use the device flow (device). If the provider showed an error page instead of a login, ${advice}`,
    detail: { kind: 'login-timeout', ...redirect },
  }, 'ERR_OAUTH_TIMEOUT')), o.timeoutMs);
  try {
    const refused = await probeAuthorization(url, o.fetch ?? globalThis.fetch);
    if (refused) o.tell(`keysmith: the provider answered HTTP ${refused} to the login request, not a login page: ${advice}`, { kind: 'redirect-refused', status: refused, ...redirect });
    if (o.noBrowser) o.tell(`Open this URL to log in:\n${url}`);
    else {
      o.tell(`Opening the browser to log in (or open ${url})`);
      openBrowser(url, o.env);
    }
    const current = await callback;
    try {
      return await oidc.authorizationCodeGrant(client, current, { pkceCodeVerifier: verifier, expectedState: state, ...(nonce ? { expectedNonce: nonce } : {}), idTokenExpected: openid });
    } catch (err) {
      throw await oauthError(err, { action: 'the login', endpoint: 'token', url: provider.server.token_endpoint as string });
    }
  } finally {
    clearTimeout(timer);
    server.close();
    server.closeAllConnections?.();
  }
}

/** RFC 8628: shows the code and URL, then polls as the provider says (interval, slow_down). */
async function deviceCode(name: string, provider: ProviderConfig, secret: string | undefined, o: LoginOptions) {
  if (!provider.server.device_authorization_endpoint) {
    throw new UsageError('this provider offers no device flow', { hint: 'log in without it (device: false)', detail: { kind: 'no-device-flow', provider: name } }, 'ERR_OAUTH_NO_DEVICE');
  }
  const oidc = await loadClient();
  const client = await clientFor(provider, secret, { endpoint: 'device_authorization', ...(o.fetch ? { fetch: o.fetch } : {}) });
  if (provider.server.jwks_uri) oidc.enableNonRepudiationChecks(client);
  let d;
  try {
    d = await oidc.initiateDeviceAuthorization(client, grantParameters(provider));
  } catch (err) {
    throw await oauthError(err, { action: 'the device login', endpoint: 'device_authorization', url: provider.server.device_authorization_endpoint as string });
  }
  o.tell(`To log in, open ${d.verification_uri} and enter the code ${d.user_code}${d.verification_uri_complete ? `\n(or open ${d.verification_uri_complete})` : ''}`);
  if (o.terminal) o.tell(await qrCode(d.verification_uri_complete ?? d.verification_uri));
  try {
    const signal = AbortSignal.timeout(Math.min(o.timeoutMs, (d.expires_in ?? 600) * 1000));
    return await oidc.pollDeviceAuthorizationGrant(client, d, undefined, { signal });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') {
      throw new FailedError(`no login within ${Math.round(o.timeoutMs / 1000)} s`, undefined, 'ERR_OAUTH_TIMEOUT');
    }
    throw await oauthError(err, { action: 'the device login', endpoint: 'token', url: provider.server.token_endpoint as string });
  }
}

/** What to do about a redirect URI the provider may not accept (RFC 8252 §7.3 asks providers to allow any loopback port; not all do). */
function redirectAdvice(r: RedirectDetail): string {
  return r.fixedPort
    ? `register the redirect URI ${r.redirectUri} for client ${r.clientId} at the provider`
    : `it may accept only registered ports (RFC 8252 §7.3 unmet): register ${r.redirectUri} for client ${r.clientId} and save that port as the redirectPort of ${r.provider}`;
}

/**
 * Asks the authorization endpoint for the login page as the browser will, without cookies: a 4xx
 * answer instead of a redirect or a page means the provider refuses the request itself — most often
 * a redirect URI it does not accept (RFC 6749 §4.1.2.1: it must not redirect then). Only advice:
 * network errors and anything else count as fine.
 */
async function probeAuthorization(url: string, fetch: typeof globalThis.fetch): Promise<number | undefined> {
  try {
    const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(5000) });
    await res.body?.cancel().catch(() => undefined);
    return res.status >= 400 && res.status < 500 ? res.status : undefined;
  } catch {
    return undefined;
  }
}

/** A QR code of a URL in terminal block characters, for a phone to scan. */
export async function qrCode(url: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(url, { type: 'terminal', small: true });
}

/** Logs in and stores the tokens in the vault (`oauth/<name>`). */
export async function login(vault: Vault, name: string, provider: ProviderConfig, o: LoginOptions): Promise<StoredTokens> {
  const previous = await readTokens(vault, name);
  if (provider.grant === 'client-credentials') {
    throw new UsageError(`${name} uses client credentials: there is no login`, { hint: 'accessToken fetches its tokens', detail: { kind: 'no-login', provider: name } });
  }
  const response = o.device || provider.grant === 'device' ? await deviceCode(name, provider, previous.clientSecret, o) : await authorizationCode(name, provider, previous.clientSecret, o);
  const token = fromResponse({ ...(previous.clientSecret ? { clientSecret: previous.clientSecret } : {}) }, response, o.now());
  await writeTokens(vault, name, token, o.now());
  return token;
}
