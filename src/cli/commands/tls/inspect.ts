import { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { fromPkcs12, looksLikePkcs12 } from '../../../tls/p12.js';
import { inspectBytes, type CertificateInfo, type RequestInfo } from '../../../tls/inspect.js';
import { fetchChain, parseEndpoint } from '../../../tls/remote.js';
import { readAll } from '../../io.js';
import type { ContextFor } from '../../program.js';
import { p12Password } from './password.js';
import { renderInfo } from './render.js';

interface InspectFlags {
  chain: boolean;
  passwordStdin: boolean;
  servername?: string;
  timeout: string;
}

export function inspectCommand(contextFor: ContextFor): Command {
  return new Command('inspect')
    .description('show a certificate or request from a file (PEM bundle, DER), stdin, or a live TLS server')
    .argument('<target>', 'FILE, -, HOST[:PORT] or https://URL')
    .option('--chain', 'every certificate, not only the first (a bundle, or the chain a server sends)', false)
    .option('--servername <name>', 'SNI name for a server (default: the host)')
    .option('--password-stdin', 'PKCS#12: read the password from stdin instead of a prompt', false)
    .option('--timeout <seconds>', 'for a server: give up after this long', '10')
    .addHelpText('after', `
Examples:
  $ keysmith tls inspect example.test.pem
  $ keysmith tls inspect bundle.p12 --chain          # asks for the password
  $ keysmith tls inspect example.com:443 --chain
  $ keysmith tls inspect https://127.0.0.1:8443 --servername example.test --json`)
    .action(async (target: string, flags: InspectFlags, command: Command) => {
      const ctx = contextFor(command);
      let items: Array<CertificateInfo | RequestInfo>;
      let trust: { trusted: boolean; trustError?: string } | undefined;
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
      const isFile = !isUrl && target !== '-' && (await stat(target).then(() => true, () => false));
      if (target === '-' || isFile || (!isUrl && /[/\\]|\.(pem|crt|cer|der|csr|p12|pfx)$/i.test(target))) {
        if (target === '-' && flags.passwordStdin) throw new UsageError('stdin cannot carry both the file and its password');
        let bytes: Uint8Array = target === '-' ? await readAll(ctx.io.stdin) : await readUserFile(target);
        if (looksLikePkcs12(bytes)) {
          const { certificates } = await fromPkcs12(bytes, await p12Password(ctx, flags.passwordStdin, '--password-stdin', false), target);
          bytes = Buffer.from(certificates.join(''));
        }
        items = await inspectBytes(bytes, target, ctx.now());
      } else {
        const endpoint = { ...parseEndpoint(target), ...(flags.servername ? { servername: flags.servername } : {}) };
        const peer = await fetchChain(endpoint, { timeoutMs: Number(flags.timeout) * 1000 });
        items = [];
        for (const cert of peer.chain) items.push(...(await inspectBytes(cert.raw, target, ctx.now())));
        trust = { trusted: peer.trusted, ...(peer.trustError ? { trustError: peer.trustError } : {}) };
      }
      const shown = flags.chain ? items : items.slice(0, 1);
      if (ctx.flags.json) {
        const out = shown.map(({ pem: _pem, ...rest }) => rest);
        return ctx.json(trust ? { target, ...trust, certificates: out } : flags.chain ? out : out[0]);
      }
      const text = shown.map(renderInfo).join('\n');
      await ctx.out(trust ? `${text}${'trusted:'.padEnd(12)}${trust.trusted ? 'yes' : `no (${trust.trustError})`}\n` : text);
    });
}
