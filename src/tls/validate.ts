/**
 * The one path validator behind every trust verdict keysmith gives (`tls check` and `tls inspect`,
 * files and live hosts alike): RFC 5280 §6 path validation plus the rules browsers enforce for
 * server certificates.
 *
 * Why not a library: pkijs's CertificateChainValidationEngine ignores pathLenConstraint, EKU and
 * unknown critical extensions on leaves, and takes the last certificate given as the leaf; OpenSSL's
 * verifier is not reachable from Node without a handshake (which needs the leaf's private key). So
 * the parts with mature implementations come from OpenSSL through Node — certificate parsing,
 * signatures (`X509Certificate.verify`), host names and IPs (`checkHost` with RFC 6125 flags,
 * `checkIP`) — and the rest is written here (with cert.ts, name-constraints.ts and der.ts) and checked
 * against `openssl verify -x509_strict -purpose sslserver -policy_check -policy anyPolicy` and a real
 * OpenSSL handshake on the corpus in fixtures/tls/ (test/integration/tls-validate.test.ts). Where
 * keysmith is stricter than OpenSSL (SAN required, no partial or public-suffix wildcards, weak keys
 * and SHA-1) the rule is cited beside the check.
 */
import { Cert, KU, OID, TrustStore } from './cert.js';
import { children, readOne, sequence, TAG, wellFormed } from './der.js';
import { constrainedNames, NameSyntaxError, violates, type RawName } from './name-constraints.js';
import { isIP } from './names.js';

export { Cert, TrustStore, parseCertificates } from './cert.js';

/** The rule a chain breaks: stable codes, documented in the README. */
export type TrustRule =
  | 'MALFORMED'
  | 'UNTRUSTED'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'NOT_A_CA'
  | 'PATH_LENGTH'
  | 'KEY_USAGE'
  | 'NAME_CONSTRAINTS'
  | 'UNKNOWN_CRITICAL_EXTENSION'
  | 'DUPLICATE_EXTENSION'
  | 'EXTENDED_KEY_USAGE'
  | 'NO_SAN'
  | 'WEAK_KEY'
  | 'WEAK_SIGNATURE'
  | 'POLICY'
  | 'PROFILE';

export interface TrustError {
  code: TrustRule;
  /** Which certificate of the path breaks it: 0 is the leaf, then its issuers up to the root. */
  certificate: number;
  message: string;
}

export interface Verdict {
  trusted: boolean;
  /** Why not, when not trusted. */
  trustError: TrustError | null;
  /** The path checked, leaf first (to the root when one was found). */
  path: Cert[];
}

/**
 * Extensions whose meaning keysmith processes, the same list as OpenSSL's X509_supported_extension:
 * anything else marked critical makes the certificate unusable (RFC 5280 §4.2) — key identifiers,
 * AIA and CRL distribution points among them, which RFC 5280 wants non-critical anyway.
 */
const UNDERSTOOD = new Set<string>([
  OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.nameConstraints,
  OID.certificatePolicies, OID.policyMappings, OID.policyConstraints, OID.inhibitAnyPolicy, OID.nsCertType,
]);

/**
 * Extensions OpenSSL decodes whenever it meets them (x509v3_cache_extensions): one it cannot decode
 * makes the certificate invalid. AIA and issuerAltName it leaves alone, and so does keysmith.
 */
const DECODED_BY_OPENSSL = new Set<string>([...UNDERSTOOD, OID.authorityKeyId, OID.subjectKeyId, OID.crlDistributionPoints]);

export interface ValidateOptions {
  /** The time to check validity at. */
  at: Date;
  /** The purpose: a TLS server certificate (the only one for now). */
  purpose?: 'serverAuth';
}

/** The longest path built (OpenSSL's default depth is 100; real chains have 2–4). */
export const MAX_CHAIN = 32;
/** Certificates of one bundle that are looked at for issuers (found by subject, so many cost little). */
const MAX_POOL = 1000;
const MAX_PATHS = 16;

/**
 * Validates `presented` (leaf first, then any intermediates in any order, as a server sends them or
 * a bundle holds them) against `store` at `options.at`.
 * @example
 * const verdict = validateChain(pems.map((p) => new Cert(new X509Certificate(p).raw)), new TrustStore(roots), { at: new Date() });
 * if (!verdict.trusted) console.log(verdict.trustError?.code, verdict.trustError?.message);
 */
export function validateChain(presented: Cert[], store: TrustStore, options: ValidateOptions): Verdict {
  const leaf = presented[0];
  if (!leaf) throw new Error('validateChain: no certificate');
  if (leaf.nameError) return { trusted: false, trustError: { code: 'MALFORMED', certificate: 0, message: `certificate 0 (${leaf.label}): ${leaf.nameError}` }, path: [leaf] };
  const pool = new Map<string, Cert[]>();
  for (const c of presented.slice(1, MAX_POOL)) pool.set(c.subjectKey, [...(pool.get(c.subjectKey) ?? []), c]);
  let first: Verdict | undefined;
  for (const { path, anchored } of candidatePaths(leaf, pool, store)) {
    const error = anchored ? checkPath(path, options) : unanchored(path);
    const verdict: Verdict = { trusted: error === null, trustError: error, path };
    if (verdict.trusted) return verdict;
    // Report the first anchored path's failure: it is the chain the server meant.
    if (!first || (anchored && first.trustError?.code === 'UNTRUSTED')) first = verdict;
  }
  return first!;
}

function unanchored(path: Cert[]): TrustError {
  const top = path.length - 1;
  const cert = path[top]!;
  if (cert.selfIssued && safeVerify(cert, cert)) return { code: 'UNTRUSTED', certificate: top, message: `self-signed certificate ${top} (${cert.label}) is not a trusted root` };
  return { code: 'UNTRUSTED', certificate: top, message: `no trusted issuer found for certificate ${top} (issuer: ${cert.issuer.split('\n').join(', ') || '(empty)'})` };
}

/** Paths from the leaf upward, trusted roots tried first; each either ends at a root of the store or is a dead end. */
function* candidatePaths(leaf: Cert, pool: Map<string, Cert[]>, store: TrustStore): Generator<{ path: Cert[]; anchored: boolean }> {
  let yielded = 0;
  const path = [leaf];
  function* walk(): Generator<{ path: Cert[]; anchored: boolean }> {
    if (yielded >= MAX_PATHS) return;
    const top = path[path.length - 1]!;
    if (store.has(top)) {
      yielded++;
      yield { path: [...path], anchored: true };
      return;
    }
    const seen = new Set(path.map((c) => c.fingerprint));
    const candidates = [...store.issuersOf(top), ...(pool.get(top.issuerKey) ?? [])].filter((c) => !seen.has(c.fingerprint) && keyIdsMatch(top, c));
    if (candidates.length === 0 || path.length > MAX_CHAIN) {
      yielded++;
      yield { path: [...path], anchored: false };
      return;
    }
    for (const c of candidates) {
      path.push(c);
      yield* walk();
      path.pop();
    }
  }
  yield* walk();
}

/** An issuer whose subject key id differs from the child's authority key id is not its issuer (as OpenSSL's X509_check_issued). */
function keyIdsMatch(child: Cert, issuer: Cert): boolean {
  try {
    const akid = child.authorityKeyId;
    const skid = issuer.subjectKeyId;
    return !akid || !skid || akid === skid;
  } catch {
    return true; // a malformed extension is reported by the path check
  }
}

function safeVerify(child: Cert, issuer: Cert): boolean {
  try {
    return child.node.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** RFC 5280 §6.1 over a path that ends in a trusted root, plus the server-certificate rules. */
function checkPath(path: Cert[], options: ValidateOptions): TrustError | null {
  // Decode every extension the checks read first, so that a malformed one is named, not thrown.
  const constrained = path.some((c) => c.extension(OID.nameConstraints));
  for (const [i, cert] of path.entries()) {
    try {
      if (cert.nameError) throw new Error(cert.nameError);
      // What OpenSSL decodes it must be able to decode (else OpenSSL calls the certificate invalid).
      for (const e of cert.extensions) if (DECODED_BY_OPENSSL.has(e.extnID)) wellFormed(readOne(e.value));
      checkShapes(cert);
      void [cert.basicConstraints, cert.keyUsage, cert.extKeyUsage, cert.subjectAltNames, cert.authorityKeyId, cert.subjectKeyId, cert.nameConstraints, cert.nsCertType, cert.notAfter, cert.signatureAlgorithm, cert.weakKey, cert.weakSignature, cert.publicKey];
      if (constrained && !cert.emptySubject) void cert.subjectRdns;
    } catch (err) {
      return { code: 'MALFORMED', certificate: i, message: `certificate ${i} (${cert.label}): cannot decode it: ${(err as Error).message}` };
    }
  }
  try {
    return checkPathUnsafe(path, options);
  } catch (err) {
    // Whatever the checks could not read is a certificate no verdict can rest on: never "trusted".
    return { code: 'MALFORMED', certificate: 0, message: `cannot judge this chain: ${(err as Error).message}` };
  }
}

function checkPathUnsafe(path: Cert[], options: ValidateOptions): TrustError | null {
  const fail = (code: TrustRule, certificate: number, message: string): TrustError => ({ code, certificate, message: `certificate ${certificate} (${path[certificate]!.label}): ${message}` });
  const last = path.length - 1;
  const at = options.at;

  for (const [i, cert] of path.entries()) {
    // Extensions: each once (RFC 5280 §4.2), every critical one understood.
    const ids = cert.extensions.map((e) => e.extnID);
    const dup = ids.find((id, k) => ids.indexOf(id) !== k);
    if (dup) return fail('DUPLICATE_EXTENSION', i, `extension ${dup} appears more than once (RFC 5280 §4.2)`);
    const unknown = cert.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.extnID));
    if (unknown) return fail('UNKNOWN_CRITICAL_EXTENSION', i, `unknown critical extension ${unknown.extnID} (RFC 5280 §4.2)`);
    if (cert.version < 3 && cert.extensions.length > 0) return fail('PROFILE', i, 'a version 1 or 2 certificate with extensions (RFC 5280 §4.1.2.1)');
    // Signatures: each certificate by the next one's key. The root is trusted as it stands.
    if (i < last && !safeVerify(cert, path[i + 1]!)) return fail('BAD_SIGNATURE', i, `the signature does not verify with the key of certificate ${i + 1}`);
    // Browsers refuse weak keys anywhere in the path (CA/B BR §6.1.5) and weak hashes in the
    // signatures they check (§7.1.3.2): the root's signature on itself is never checked.
    if (cert.weakKey) return fail('WEAK_KEY', i, `${cert.weakKey}; at least 2048-bit RSA or P-256 is needed (CA/B BR §6.1.5)`);
    if (i < last && cert.weakSignature) return fail('WEAK_SIGNATURE', i, `${cert.weakSignature}, which browsers no longer accept (CA/B BR §7.1.3.2)`);
    // Validity of every certificate, the root included.
    if (at < cert.notBefore) return fail('NOT_YET_VALID', i, `not valid before ${cert.notBefore.toISOString()}`);
    if (at > cert.notAfter) return fail('EXPIRED', i, `expired ${cert.notAfter.toISOString()}`);
  }

  for (let i = 1; i <= last; i++) {
    const cert = path[i]!;
    // An issuer must be a CA: v3 with basicConstraints cA. A v1 root too is refused, as
    // `openssl verify -x509_strict` does (none is left in the public root programs).
    if (!cert.isCa) {
      const why = cert.version < 3 ? `a version ${cert.version} certificate cannot be a CA` : cert.basicConstraints ? 'basicConstraints says it is not a CA' : 'no basicConstraints: not a CA';
      return fail('NOT_A_CA', i, `${why} (RFC 5280 §4.2.1.9)`);
    }
    const ku = cert.keyUsage;
    if (ku && !ku.has(KU.keyCertSign)) return fail('KEY_USAGE', i, 'its keyUsage lacks keyCertSign, so it cannot sign certificates (RFC 5280 §4.2.1.3)');
    // pathLenConstraint: how many non-self-issued intermediates may follow it.
    const pathLen = cert.basicConstraints?.pathLenConstraint;
    if (pathLen !== undefined) {
      const below = path.slice(1, i).filter((c) => !c.selfIssued).length;
      if (below > pathLen) return fail('PATH_LENGTH', i, `pathLenConstraint ${pathLen} allows ${pathLen} intermediate(s) below it, the path has ${below} (RFC 5280 §4.2.1.9)`);
    }
    // Name constraints apply to every certificate below, except self-issued intermediates (§6.1.3 (b)).
    const nc = cert.nameConstraints;
    if (nc) {
      for (let j = i - 1; j >= 0; j--) {
        if (j > 0 && path[j]!.selfIssued) continue;
        let names: RawName[];
        try {
          names = constrainedNames(path[j]!, j === 0);
        } catch (err) {
          if (!(err instanceof NameSyntaxError)) throw err;
          return fail('NAME_CONSTRAINTS', j, `${err.message}: its names cannot be checked against the constraints of certificate ${i}`);
        }
        for (const name of names) {
          const why = violates(name, nc);
          if (why) return fail('NAME_CONSTRAINTS', j, `${why} of certificate ${i} (RFC 5280 §4.2.1.10)`);
        }
      }
    }
  }

  const policy = checkPolicies(path);
  if (policy) return fail('POLICY', policy[0], policy[1]);

  // A trust anchor checked on its own (a root's file against the store) is trusted as it stands;
  // every other path is judged as a TLS server's, whatever its leaf claims to be.
  if (last > 0) {
    const why = serverPurpose(path);
    if (why) return fail(why[0], why[1], why[2]);
  }

  if (last > 0) {
    const why = profile(path);
    if (why) return fail('PROFILE', why[0], why[1]);
  }
  return null;
}

/**
 * CRL distribution points, which OpenSSL decodes but keysmith does not otherwise read: they must at
 * least have their ASN.1 shape, or OpenSSL calls the certificate invalid.
 */
function checkShapes(cert: Cert): void {
  const crldp = cert.extension(OID.crlDistributionPoints);
  if (!crldp) return;
  // CRLDistributionPoints ::= SEQUENCE OF DistributionPoint { [0] name, [1] reasons, [2] cRLIssuer }, all optional
  for (const dp of sequence(crldp.value)) {
    if (dp.tag !== TAG.sequence || children(dp).some((f) => ![0xa0, 0x81, 0xa2].includes(f.tag))) throw new Error('DER: bad cRLDistributionPoints');
  }
}

/** Serverauth EKU (Netscape/Microsoft SGC also on intermediates, as OpenSSL and Chrome accept it). */
const SERVER_EKU = { leaf: [OID.serverAuth], ca: [OID.serverAuth, '2.16.840.1.113730.4.1', '1.3.6.1.4.1.311.10.3.3'] };
/** The Netscape certificate type bit for an SSL server. */
const NS_SSL_SERVER = 1;

/** The rules for a TLS server's chain, as OpenSSL's sslserver purpose and browsers apply them. */
function serverPurpose(path: Cert[]): [TrustRule, number, string] | null {
  const last = path.length - 1;
  // EKU on every certificate, the root included: OpenSSL checks a root's purpose too when it has
  // no explicit trust settings (and PEM roots have none).
  for (let i = 0; i <= last; i++) {
    const eku = path[i]!.extKeyUsage;
    if (eku && !(i === 0 ? SERVER_EKU.leaf : SERVER_EKU.ca).some((u) => eku.includes(u))) return ['EXTENDED_KEY_USAGE', i, `extendedKeyUsage without serverAuth (${eku.join(', ')})`];
  }
  const ns = path[0]!.nsCertType;
  if (ns && !ns.has(NS_SSL_SERVER)) return ['EXTENDED_KEY_USAGE', 0, 'a Netscape certificate type without SSL server'];
  const leaf = path[0]!;
  const ku = leaf.keyUsage;
  if (ku && ![KU.digitalSignature, KU.keyEncipherment, KU.keyAgreement].some((b) => ku.has(b))) {
    return ['KEY_USAGE', 0, 'its keyUsage allows neither digitalSignature, keyEncipherment nor keyAgreement, as a TLS server needs'];
  }
  // Browsers match host names against the SAN only: CA/B Baseline Requirements §7.1.4.2.1, RFC 9525 §6.3
  // (RFC 6125 §6.4.4 allowed the CN; OpenSSL still falls back to it, keysmith does not).
  if (!leaf.subjectAltNames?.length) return ['NO_SAN', 0, 'no subjectAltName: browsers and keysmith match host names only against it (CA/B BR §7.1.4.2.1)'];
  return null;
}

/**
 * Certificate policies, RFC 5280 §6.1 with its default inputs (any policy acceptable, no explicit
 * policy required at the start): a path fails only when a CA requires an explicit policy
 * (policyConstraints) and no policy is valid all the way down to the leaf. The trust anchor's own
 * extensions are not processed (§6.1.1 (d)). Without policy mappings the valid policy tree reduces
 * to a set, which is what is kept here; a path that maps policies and requires an explicit policy
 * is refused rather than judged by a partial implementation. Returns why the path fails, or null.
 */
function checkPolicies(path: Cert[]): [number, string] | null {
  const n = path.length - 1; // the certificates below the trust anchor: path[n - 1] … path[0]
  // Policy extensions OpenSSL cannot use make it refuse the path (invalid policy extension).
  for (let i = 0; i < n; i++) {
    try {
      void [path[i]!.policies, path[i]!.policyConstraints, path[i]!.inhibitAnyPolicy, path[i]!.policyMappings];
    } catch (err) {
      return [i, `an invalid policy extension: ${(err as Error).message}`];
    }
  }
  if (n === 0 || !path.slice(0, n).some((c) => c.policyConstraints || c.inhibitAnyPolicy !== undefined)) return null;
  let explicit = n + 1;
  let inhibitAny = n + 1;
  let valid: Set<string> | 'any' | null = 'any';
  const mapped = path.slice(1, n).some((c) => c.extension(OID.policyMappings));
  for (let k = 1; k <= n; k++) {
    const cert = path[n - k]!;
    const leaf = k === n;
    const policies = cert.policies;
    if (valid !== null && policies) {
      const anyAllowed = policies.includes(OID.anyPolicy) && (inhibitAny > 0 || (!leaf && cert.selfIssued));
      const specific = policies.filter((p) => p !== OID.anyPolicy);
      const next: Set<string> | 'any' = valid === 'any' ? (anyAllowed ? 'any' : new Set(specific)) : new Set([...specific.filter((p) => (valid as Set<string>).has(p)), ...(anyAllowed ? valid : [])]);
      valid = next === 'any' || next.size > 0 ? next : null;
    } else valid = null;
    if (leaf) {
      if (explicit > 0) explicit--;
      if (cert.policyConstraints?.requireExplicitPolicy === 0) explicit = 0;
    } else {
      if (explicit === 0 && valid === null) break;
      if (!cert.selfIssued) {
        if (explicit > 0) explicit--;
        if (inhibitAny > 0) inhibitAny--;
      }
      const required = cert.policyConstraints?.requireExplicitPolicy;
      if (required !== undefined) explicit = Math.min(explicit, required);
      if (cert.inhibitAnyPolicy !== undefined) inhibitAny = Math.min(inhibitAny, cert.inhibitAnyPolicy);
    }
  }
  if (explicit > 0) return null;
  if (mapped) return [0, 'the path maps certificate policies and requires an explicit one: keysmith does not process policy mappings, so it cannot vouch for it'];
  if (valid === null) return [0, 'a CA requires an explicit certificate policy, and no policy is valid for the whole path (RFC 5280 §6.1.3 (d), §6.1.5 (g))'];
  return null;
}

/**
 * RFC 5280's MUSTs for conforming certificates, as `openssl verify -x509_strict` enforces them.
 * Returns [certificate index, why] or null.
 */
function profile(path: Cert[]): [number, string] | null {
  for (const [i, cert] of path.entries()) {
    const bc = cert.extension(OID.basicConstraints);
    const ku = cert.keyUsage;
    const sans = cert.subjectAltNames;
    const emptySubject = cert.emptySubject;
    if (cert.basicConstraints?.pathLenConstraint !== undefined && !ku?.has(KU.keyCertSign)) return [i, 'pathLenConstraint without keyCertSign (RFC 5280 §4.2.1.9)'];
    if (cert.isCa) {
      if (bc && !bc.critical) return [i, 'a CA whose basicConstraints is not critical (RFC 5280 §4.2.1.9)'];
      if (!ku) return [i, 'a CA without keyUsage (RFC 5280 §4.2.1.3)'];
    } else {
      if (cert.basicConstraints?.pathLenConstraint !== undefined) return [i, 'pathLenConstraint on a certificate that is not a CA (RFC 5280 §4.2.1.9)'];
      if (ku?.has(KU.keyCertSign)) return [i, 'keyCertSign on a certificate that is not a CA (RFC 5280 §4.2.1.3)'];
    }
    if (cert.emptyIssuer) return [i, 'an empty issuer name (RFC 5280 §4.1.2.4)'];
    if (emptySubject && (cert.isCa || ku?.has(KU.cRLSign) || !sans)) return [i, 'an empty subject without a subjectAltName (RFC 5280 §4.1.2.6)'];
    if (emptySubject && sans && !cert.extension(OID.subjectAltName)!.critical) return [i, 'an empty subject with a non-critical subjectAltName (RFC 5280 §4.2.1.6)'];
    if (sans && sans.length === 0) return [i, 'an empty subjectAltName (RFC 5280 §4.2.1.6)'];
    if (cert.version >= 3) {
      if (i < path.length - 1 && !cert.authorityKeyId) return [i, 'no authorityKeyIdentifier key id (RFC 5280 §4.2.1.1)'];
      if (cert.isCa && !cert.extension(OID.subjectKeyId)) return [i, 'a CA without subjectKeyIdentifier (RFC 5280 §4.2.1.2)'];
    }
    if (!cert.signatureAlgorithmsMatch) return [i, 'the signature algorithm differs inside and outside the signed part (RFC 5280 §4.1.1.2)'];
  }
  return null;
}

/**
 * Whether the leaf names `host`, by RFC 6125 / RFC 9525 as browsers apply them, through OpenSSL's
 * matcher: subjectAltName only (never the CN), a wildcard only as the whole left-most label and
 * for one label, never for an IP address, never directly under a public suffix (`*.co.uk`, CA/B BR
 * §3.2.2.6, by the Public Suffix List's ICANN section); IPs match iPAddress entries only.
 */
export async function matchesHost(leaf: Cert, host: string): Promise<boolean> {
  const name = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (isIP(name)) return leaf.node.checkIP(name) !== undefined;
  const matched = leaf.node.checkHost(name, { subject: 'never', wildcards: true, partialWildcards: false, multiLabelWildcards: false });
  if (matched === undefined || !matched.startsWith('*.')) return matched !== undefined;
  const base = matched.slice(2).toLowerCase();
  const { getPublicSuffix } = await import('tldts');
  if (getPublicSuffix(base, { allowPrivateDomains: false }) !== base) return true;
  // The wildcard is not allowed; the host may still be named exactly.
  return leaf.node.checkHost(name, { subject: 'never', wildcards: false }) !== undefined;
}

export interface ServerVerdict {
  trusted: boolean;
  trustError: TrustError | null;
  /** null when no host name was given (a file). */
  hostnameMatch: boolean | null;
  path: Cert[];
}

/**
 * The verdict on a TLS server's chain (from a live server or a file): trust, and whether the leaf
 * names `host` when one is given.
 */
export async function verifyServer(certs: Cert[], store: TrustStore, options: { at: Date; host?: string | null }): Promise<ServerVerdict> {
  const { trusted, trustError, path } = validateChain(certs, store, { at: options.at });
  return { trusted, trustError, hostnameMatch: options.host ? await matchesHost(certs[0]!, options.host) : null, path };
}
