import type { Entry } from '../../../manifest.js';

/** `keysmith tls acme`: the ACME account; certificates come from `tls issue --acme`. */
export const acme: Entry = {
  term: 'acme',
  summary: 'an ACME CA account (Let\'s Encrypt, ZeroSSL, step-ca, …) for tls issue --acme',
  commands: [
    { term: 'register [options]', summary: 'register an account at an ACME directory; its key is kept in the vault', load: () => import('./register.js') },
  ],
};
