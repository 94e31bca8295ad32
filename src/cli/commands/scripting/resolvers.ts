import { getProvider } from '../../../oauth/providers.js';
import { oauthResolver } from '../../../oauth/tokens.js';
import type { KindResolver } from '../../../refs/references.js';
import type { Vault } from '../../../vault/types.js';
import type { Context } from '../../context.js';

/** Records whose reference means more than their stored value: an OAuth record gives a fresh access token. */
export function resolvers(ctx: Context, vault: Vault): Record<string, KindResolver> {
  return {
    'oauth-tokens': oauthResolver(vault, { minValidMs: 60_000, now: ctx.now, paths: ctx.paths, provider: (name) => getProvider(ctx.paths, name) }),
  };
}
