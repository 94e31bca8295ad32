import type { Entry } from '../../manifest.js';

/** `keysmith oauth`: its commands, each verb's module imported only when it runs. */
export const oauth: Entry = {
  term: 'oauth',
  summary: 'log in to OAuth 2.0 / OpenID Connect providers and hand scripts fresh tokens',
  commands: [
    { term: 'add [options] <name>', summary: 'add an OAuth 2.0 / OpenID Connect provider (discovered now; settings in config, secrets in the vault)', load: () => import('./add.js') },
    { term: 'list', summary: 'list OAuth providers', load: () => import('./list.js') },
    { term: 'remove <name>', summary: 'forget a provider, its client secret and tokens (use logout first to revoke them)', load: () => import('./remove.js') },
    { term: 'login [options] <name>', summary: 'log in: authorization code with PKCE in the browser, or the device flow', load: () => import('./login.js') },
    { term: 'token [options] <name>', summary: 'print a valid access token, refreshing it first when it would expire soon', load: () => import('./token.js') },
    { term: 'status [name]', summary: 'who you are logged in as, scopes, expiry — never a token', load: () => import('./status.js') },
    { term: 'logout <name>', summary: 'revoke the tokens at the provider (RFC 7009), then delete them', load: () => import('./logout.js') },
  ],
};
