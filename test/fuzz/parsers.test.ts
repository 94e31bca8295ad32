// Property-based fuzzing of every parser of outside data: whatever the input, only keysmith's typed
// errors escape (never a TypeError or RangeError), and nothing hangs. Inputs are random text and
// bytes, and mutants of the fixtures/ corpus. A bounded run is part of `npm test`; `npm run fuzz`
// runs longer. KEYSMITH_FUZZ_SEED=n reproduces a run (fast-check prints the seed of a failure).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { parseDuration } from '../../src/duration.js';
import { KeysmithError } from '../../src/errors.js';
import { parseEnvFile, parseEnvFlag } from '../../src/refs/env-file.js';
import { renderTemplate, templateReferences } from '../../src/refs/inject.js';
import { parseReference, referenceOrName } from '../../src/refs/references.js';
import { fingerprintKeyFile } from '../../src/ssh/fingerprint.js';
import { parsePublicKeyLine, readPrivateKey } from '../../src/ssh/keys.js';
import { keysFor, verifyHostKey } from '../../src/ssh/known-hosts.js';
import { parseCertificates } from '../../src/tls/cert.js';
import { inspectBytes } from '../../src/tls/inspect.js';
import { pemBlocks } from '../../src/tls/pem.js';
import { fromPkcs12, toPkcs12 } from '../../src/tls/p12.js';
import { ageDecrypt, ageEncrypt, generateIdentity, parseIdentities, recipientOf } from '../../src/vault/age.js';
import { parseDocument } from '../../src/vault/file.js';
import { validateName } from '../../src/vault/names.js';

const RUNS = Number(process.env.KEYSMITH_FUZZ_RUNS ?? 300);
const params = { numRuns: RUNS, ...(process.env.KEYSMITH_FUZZ_SEED ? { seed: Number(process.env.KEYSMITH_FUZZ_SEED) } : {}) };

/** The input is refused with a typed error or accepted; anything else escapes and fails the property. */
function typedOnly(err: unknown): void {
  if (!(err instanceof KeysmithError)) throw err;
}
const parse = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    typedOnly(err);
  }
};
const parseAsync = async (fn: () => Promise<unknown>) => {
  await fn().catch(typedOnly);
};

/** Every fixture file under the given folders (the seeds mutants are made from). */
function corpus(...folders: string[]): Buffer[] {
  const files: Buffer[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      if (name.isDirectory()) walk(path);
      else if (!/\.(md|json|txt)$/.test(name.name) && statSync(path).size < 65536) files.push(readFileSync(path));
    }
  };
  for (const f of folders) {
    try {
      walk(join('fixtures', f));
    } catch {
      // a folder not made yet: random inputs still run
    }
  }
  return files;
}

/** A seed with a few bytes flipped, inserted, deleted, or the end cut off. */
function mutants(seeds: Buffer[]): fc.Arbitrary<Buffer> {
  const edit = fc.record({ at: fc.nat(), op: fc.constantFrom('flip', 'insert', 'delete', 'cut'), byte: fc.integer({ min: 0, max: 255 }) });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let b = Buffer.from(seed);
    for (const { at, op, byte } of edits) {
      const i = b.length === 0 ? 0 : at % b.length;
      if (op === 'flip') b[i] = byte;
      else if (op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.of(byte), b.subarray(i)]);
      else if (op === 'delete') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else b = b.subarray(0, i);
    }
    return b;
  });
}

const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ unit: 'grapheme-ascii', maxLength: 300 }));
const bytes = fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a));
/** Random bytes, seeds as they are, and their mutants. */
const inputs = (seeds: Buffer[]) => (seeds.length === 0 ? bytes : fc.oneof(bytes, fc.constantFrom(...seeds), mutants(seeds), mutants(seeds)));

describe('fuzz: text parsers', () => {
  it('durations, names, references', () => {
    fc.assert(
      fc.property(text, (t) => {
        parse(() => parseDuration(t, '--ttl'));
        parse(() => validateName(t));
        parse(() => parseReference(t));
        parse(() => referenceOrName(t));
        parse(() => parseEnvFlag(t));
      }),
      params,
    );
  });

  it('env files', () => {
    const seeds = corpus('env');
    fc.assert(fc.property(fc.oneof(text, inputs(seeds).map((b) => b.toString('utf8'))), (t) => parse(() => parseEnvFile(t, 'fuzz.env'))), params);
  });

  it('templates: references found, and a template without any is copied byte for byte', () => {
    const seeds = corpus('templates');
    fc.assert(
      fc.property(fc.oneof(inputs(seeds), text.map((t) => Buffer.from(`a {{ ${t} }} b {{ks://${t}}}`))), (template) => {
        parse(() => {
          const refs = templateReferences(template);
          const out = renderTemplate(template, new Map(refs.map((r) => [r.text, Buffer.from('VALUE')])));
          if (refs.length === 0 && !out.equals(template)) throw new Error('a template without references was changed');
        });
      }),
      params,
    );
  });

  it('age identities and known_hosts', () => {
    const seeds = corpus('ssh');
    fc.assert(
      fc.property(fc.oneof(text, inputs(seeds).map((b) => b.toString('latin1'))), bytes, (t, key) => {
        parse(() => parseIdentities(t));
        parse(() => keysFor(t, 'host.example', 22));
        parse(() => verifyHostKey(t, 'host.example', 2222, key));
      }),
      params,
    );
  });
});

describe('fuzz: SSH keys and certificates', () => {
  const seeds = corpus('ssh');

  it('public key lines, blobs and certificates; files as ssh fingerprint reads them', async () => {
    await fc.assert(
      fc.asyncProperty(inputs(seeds), async (b) => {
        const text = b.toString('latin1');
        parse(() => parsePublicKeyLine(text.split('\n')[0]!, 'fuzz.pub'));
        // The blob behind a type name: what a damaged key line carries.
        parse(() => parsePublicKeyLine(`ssh-ed25519 ${b.toString('base64')} c`, 'fuzz.pub'));
        await parseAsync(() => fingerprintKeyFile('fuzz.pub', text, async () => undefined));
      }),
      { ...params, numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('private keys (OpenSSH, PEM, PKCS#8), with and without a passphrase', async () => {
    const kdf = async () => Buffer.alloc(48); // the KDF's cost is not what is fuzzed
    await fc.assert(
      fc.asyncProperty(inputs(seeds.filter((f) => f.includes('PRIVATE KEY'))), fc.constantFrom(undefined, 'wrong'), (b, pw) => parseAsync(() => readPrivateKey(b.toString('latin1'), 'fuzz', pw, kdf))),
      { ...params, numRuns: Math.ceil(RUNS / 3) },
    );
  });
});

describe('fuzz: binary formats', () => {
  it('PEM blocks and certificates', () => {
    const seeds = corpus('tls', 'x509', 'csr');
    fc.assert(
      fc.property(inputs(seeds), (b) => {
        parse(() => pemBlocks(b.toString('latin1')));
        parse(() => parseCertificates(b));
      }),
      params,
    );
  });

  it('tls inspect: certificates and requests, PEM or DER', async () => {
    const seeds = corpus('tls', 'x509', 'csr');
    await fc.assert(fc.asyncProperty(inputs(seeds), (b) => parseAsync(() => inspectBytes(b, 'fuzz.pem', new Date()))), { ...params, numRuns: Math.ceil(RUNS / 3) });
  });

  it('PKCS#12', async () => {
    // One made here with openssl, so there is a valid seed whatever fixtures/p12 holds.
    const dir = mkdtempSync(join(tmpdir(), 'ks-fuzz-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=fuzz', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
      const made = await toPkcs12(readFileSync(join(dir, 'k.pem'), 'utf8'), [readFileSync(join(dir, 'c.pem'), 'utf8')], 'secret');
      const seeds = [made, ...corpus('p12')];
      await fc.assert(fc.asyncProperty(inputs(seeds), fc.constantFrom('', 'secret', 'wrong'), (b, pw) => parseAsync(() => fromPkcs12(b, pw, 'fuzz.p12'))), { ...params, numRuns: Math.ceil(RUNS / 3) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('vault files: the age layer and the document inside', async () => {
    const identity = await generateIdentity();
    const valid = Buffer.from(await ageEncrypt(Buffer.from(JSON.stringify({ format: 'keysmith-vault', version: 1, records: {} })), { recipients: [await recipientOf(identity)] }));
    const seeds = [valid, ...corpus('vault')];
    await fc.assert(fc.asyncProperty(inputs(seeds), (b) => parseAsync(() => ageDecrypt(b, { identities: [identity] }, 'fuzz.age'))), { ...params, numRuns: Math.ceil(RUNS / 3) });
    fc.assert(fc.property(fc.oneof(bytes, fc.json().map((j) => Buffer.from(j))), (b) => parse(() => parseDocument(b, 'fuzz'))), params);
  });
});
