import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { UsageError } from '../../../errors.js';
import { readUserFile } from '../../../fs.js';
import { MAX_PEM_BYTES } from '../../../tls/pem.js';
import { fromPkcs12, looksLikePkcs12 } from '../../../tls/p12.js';
import { inspectBytes, type CertificateInfo, type RequestInfo } from '../../../tls/inspect.js';
import { fetchChain, parseEndpoint } from '../../../tls/remote.js';
import { readAll } from '../../io.js';
import type { ContextFor } from '../../context.js';
import type { TrustError } from '../../../tls/validate.js';
import { revocation, type OcspResult } from '../../../tls/check.js';
import type { OcspStatus } from '../../../tls/ocsp.js';

function renderOcsp(o: OcspStatus): string {
  const when = `this update ${o.thisUpdate}${o.nextUpdate ? `, next update ${o.nextUpdate}` : ''}`;
  const revoked = o.status === 'revoked' ? ` at ${o.revokedAt}${o.reason ? ` (${o.reason})` : ''}` : '';
  return `${o.status}${revoked} (${o.source === 'stapled' ? 'stapled' : o.responder}; ${when})`;
}
import { p12Password } from './password.js';
import { renderInfo } from './render.js';

interface InspectFlags {
  chain: boolean;
  passwordStdin: boolean;
  servername?: string;
  timeout: string;
  caFile?: string;
  ocsp: boolean;
  starttls?: string;
}

export default function inspectCommand(command: Command, contextFor: ContextFor): Command {
  return command
    .argument('<target>', 'FILE, -, HOST[:PORT], https://URL, or smtp:// imap:// pop3:// ldap:// postgres:// … (STARTTLS)')
    .option('--chain', 'every certificate, not only the first (a bundle, or the chain a server sends)', false)
    .option('--servername <name>', 'SNI name for a server (default: the host)')
    .option('--ca-file <file>', 'also trust these roots (PEM), for a server\'s verdict and --ocsp')
    .option('--starttls <protocol>', 'for host:port: speak this protocol before TLS (smtp, imap, pop3, ftp, ldap, postgres, mysql, xmpp)')
    .option('--ocsp', 'show the revocation status: the stapled OCSP response, else the responder in the certificate (a file needs its issuer after it)', false)
    .option('--password-stdin', 'PKCS#12: read the password from stdin instead of a prompt', false)
    .option('--timeout <seconds>', 'for a server: give up after this long', '10')
    .addHelpText('after', `
Examples:
  $ keysmith tls inspect example.test.pem
  $ keysmith tls inspect bundle.p12 --chain          # asks for the password
  $ keysmith tls inspect example.com:443 --chain
  $ keysmith tls inspect https://127.0.0.1:8443 --servername example.test --json
  $ keysmith tls inspect smtp://mail.example.com:587 --ocsp`)
    .action(async (target: string, flags: InspectFlags, command: Command) => {
      const ctx = contextFor(command);
      let items: Array<CertificateInfo | RequestInfo>;
      let trust: { trusted: boolean; trustError: TrustError | null; hostnameMatch: boolean | null } | undefined;
      let ocsp: OcspResult | undefined;
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(target);
      const isFile = !isUrl && target !== '-' && (await stat(target).then(() => true, () => false));
      if (target === '-' || isFile || (!isUrl && /[/\\]|\.(pem|crt|cer|der|csr|p12|pfx)$/i.test(target))) {
        if (target === '-' && flags.passwordStdin) throw new UsageError('stdin cannot carry both the file and its password');
        let bytes: Uint8Array = target === '-' ? await readAll(ctx.io.stdin) : await readUserFile(target, { maxBytes: MAX_PEM_BYTES });
        if (looksLikePkcs12(bytes)) {
          const { certificates } = await fromPkcs12(bytes, await p12Password(ctx, flags.passwordStdin, '--password-stdin', false), target);
          bytes = Buffer.from(certificates.join(''));
        }
        items = await inspectBytes(bytes, target, ctx.now());
        if (flags.ocsp) {
          // The responder is asked only for a chain that validates: the same validator and roots as for a server.
          const [{ parseCertificates, verifyServer }, { loadTrustStore }] = await Promise.all([import('../../../tls/validate.js'), import('../../../tls/roots.js')]);
          const certs = parseCertificates(bytes);
          if (certs.length === 0) throw new UsageError(`--ocsp: no certificate in ${target}`);
          const verdict = await verifyServer(certs, await loadTrustStore(ctx.env, flags.caFile), { at: ctx.now() });
          ocsp = await revocation(certs, verdict, { timeoutMs: Number(flags.timeout) * 1000, now: ctx.now() });
        }
      } else {
        const endpoint = { ...parseEndpoint(target, flags.starttls), ...(flags.servername ? { servername: flags.servername } : {}) };
        const peer = await fetchChain(endpoint, { timeoutMs: Number(flags.timeout) * 1000, requestOcsp: flags.ocsp });
        items = [];
        for (const cert of peer.chain) items.push(...(await inspectBytes(cert.raw, target, ctx.now())));
        // The same validator and roots as tls check: the two commands cannot disagree.
        const [{ verifyServer, Cert }, { loadTrustStore }] = await Promise.all([import('../../../tls/validate.js'), import('../../../tls/roots.js')]);
        const host = endpoint.servername ?? endpoint.host;
        const certs = peer.chain.map((c) => new Cert(c));
        const verdict = await verifyServer(certs, await loadTrustStore(ctx.env, flags.caFile), { at: ctx.now(), host });
        trust = { trusted: verdict.trusted, trustError: verdict.trustError, hostnameMatch: verdict.hostnameMatch };
        if (flags.ocsp) ocsp = await revocation(certs, verdict, { staple: peer.ocspResponse, timeoutMs: Number(flags.timeout) * 1000, now: ctx.now() });
      }
      const shown = flags.chain ? items : items.slice(0, 1);
      if (ctx.flags.json) {
        const out = shown.map(({ pem: _pem, ...rest }) => rest);
        if (trust || ocsp) return ctx.json({ target, ...trust, ...(ocsp ? { ocsp } : {}), certificates: out });
        return ctx.json(flags.chain ? out : out[0]);
      }
      const line = (label: string, value: string) => `${`${label}:`.padEnd(12)}${value}\n`;
      let text = shown.map(renderInfo).join('\n');
      if (trust) text += line('trusted', trust.trusted ? 'yes' : `no: ${trust.trustError!.code}, ${trust.trustError!.message}`) + line('host name', trust.hostnameMatch ? 'matches' : 'does not match');
      if (ocsp) text += line('ocsp', 'message' in ocsp ? `${ocsp.status}: ${ocsp.message}` : renderOcsp(ocsp));
      await ctx.out(text);
    });
}
