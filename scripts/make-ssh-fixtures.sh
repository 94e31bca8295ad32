#!/usr/bin/env bash
# Adds cases to fixtures/ssh/: SSH keys of every type and format OpenSSH reads (OpenSSH, PEM,
# PKCS#8, encrypted, public, certificates incl. security-key ones, empty comments) and broken
# copies of them — each with the verdict of the real `ssh-keygen -l -f FILE` stored beside it:
#
#   FILE.ssh-keygen.txt   first line "exit N" (ssh-keygen's exit code), then its stdout verbatim
#
#   bash scripts/make-ssh-fixtures.sh   (from anywhere; writes <repo>/fixtures/ssh/)
#
# ADD-ONLY: a case whose file exists is never made again, so committed fixtures (and the quirks
# they record) stay byte for byte. To add a case, add a line below and rerun; to redo one on
# purpose, delete its files first. Names: NAME.key is a private key with no NAME.key.pub beside it
# (so its own public half is read) unless a case says otherwise; NAME.pub a public key line.
# Needs ssh-keygen (recorded with OpenSSH 9.2p1), openssl 3 and python3 with `cryptography`.
# All keys are throwaway test keys; the passphrase of every encrypted one is "fixture-passphrase".
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly OUT=fixtures/ssh PASS=fixture-passphrase
for tool in ssh-keygen openssl python3; do command -v "$tool" >/dev/null || { echo "make-ssh-fixtures: $tool not found" >&2; exit 1; }; done
mkdir -p "$OUT"
T=$(mktemp -d "${TMPDIR:-/tmp}/keysmith-ssh-fixtures.XXXXXX")
trap 'rm -rf "$T"' EXIT

todo() { [ ! -e "$OUT/$1" ]; }

# keygen NAME TYPE BITS FORMAT PASSPHRASE COMMENT → NAME.key and NAME.pub, made by ssh-keygen
keygen() {
  local name=$1 type=$2 bits=$3 format=$4 pass=$5 comment=$6
  todo "$name.key" || return 0
  rm -f "$T/k" "$T/k.pub"
  ssh-keygen -q -t "$type" ${bits:+-b "$bits"} ${format:+-m "$format"} -N "$pass" -a 2 -C "$comment" -f "$T/k"
  cp "$T/k" "$OUT/$name.key" && cp "$T/k.pub" "$OUT/$name.pub"
}

# cert NAME PUB CA [ssh-keygen -s options…] → NAME-cert.pub: PUB certified by CA.key, for alice,bob
# (PRINCIPALS= for none)
cert() {
  local name=$1 pub=$2 ca=$3; shift 3
  todo "$name-cert.pub" || return 0
  cp "$OUT/$pub" "$T/c.pub" && rm -f "$T/c-cert.pub"
  # Signed from inside the folder: a key without a comment gets its file name (c.pub) as the
  # certificate's comment, not a machine-specific temp path.
  (cd "$T" && ssh-keygen -q -s "$OUT/$ca.key" -I "fixture-$name" ${PRINCIPALS-"-n alice,bob"} -V 20240101:20340101 -z 42 "$@" c.pub)
  cp "$T/c-cert.pub" "$OUT/$name-cert.pub"
}

# openssl-made private keys (legacy encrypted PEM with Proc-Type, encrypted PKCS#8)
ossl() {
  local name=$1; shift
  todo "$name.key" || return 0
  "$@" > "$OUT/$name.key" 2>/dev/null
}

keygen ed25519 ed25519 "" "" "" ed25519@fixtures
keygen ed25519-nocomment ed25519 "" "" "" ""
keygen ed25519-spaces ed25519 "" "" "" "a comment  with spaces"
keygen ed25519-enc ed25519 "" "" "$PASS" ed25519-enc@fixtures
keygen ecdsa256 ecdsa 256 "" "" ecdsa256@fixtures
keygen ecdsa384 ecdsa 384 "" "" ecdsa384@fixtures
keygen ecdsa521 ecdsa 521 "" "" ecdsa521@fixtures
keygen ecdsa256-pem ecdsa 256 PEM "" ecdsa256-pem@fixtures
keygen ecdsa256-pem-enc ecdsa 256 PEM "$PASS" ecdsa256-pem-enc@fixtures
keygen ecdsa384-pkcs8 ecdsa 384 PKCS8 "" ecdsa384-pkcs8@fixtures
keygen ecdsa521-pkcs8-enc ecdsa 521 PKCS8 "$PASS" ecdsa521-pkcs8-enc@fixtures
keygen rsa1024 rsa 1024 "" "" rsa1024@fixtures
keygen rsa3072 rsa 3072 "" "" rsa3072@fixtures
keygen rsa3072-enc rsa 3072 "" "$PASS" rsa3072-enc@fixtures
keygen rsa2048-pem rsa 2048 PEM "" rsa2048-pem@fixtures
keygen rsa2048-pem-enc rsa 2048 PEM "$PASS" rsa2048-pem-enc@fixtures
keygen rsa2048-pkcs8 rsa 2048 PKCS8 "" rsa2048-pkcs8@fixtures
keygen rsa2048-pkcs8-enc rsa 2048 PKCS8 "$PASS" rsa2048-pkcs8-enc@fixtures
keygen dsa dsa 1024 "" "" dsa@fixtures
keygen dsa-pem dsa 1024 PEM "" dsa-pem@fixtures
keygen ca-ed25519 ed25519 "" "" "" ca-ed25519@fixtures
keygen ca-ecdsa384 ecdsa 384 "" "" ca-ecdsa384@fixtures
keygen ca-rsa2048 rsa 2048 "" "" ca-rsa2048@fixtures

ossl ed25519-openssl-pkcs8 openssl genpkey -algorithm ed25519
ossl ed25519-openssl-pkcs8-enc openssl genpkey -algorithm ed25519 -aes-256-cbc -pass "pass:$PASS"
ossl rsa2048-openssl-pem-enc openssl genrsa -traditional -aes256 -passout "pass:$PASS" 2048
ossl ecdsa256-openssl-pem-enc sh -c "openssl ecparam -genkey -name prime256v1 -noout | openssl ec -aes256 -passout pass:$PASS"
ossl ecdsa256-openssl-pkcs8-enc openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -aes-128-cbc -pass "pass:$PASS"

# A pair whose .pub has no comment: ssh-keygen -l on the private key prints the .pub's path.
if todo pair-nocomment.key; then cp "$OUT/ed25519-nocomment.key" "$OUT/pair-nocomment.key"; cp "$OUT/ed25519-nocomment.pub" "$OUT/pair-nocomment.key.pub"; fi

# Security-key public keys cannot be made without a token: written by hand from real EC/Ed25519 points.
python3 - "$OUT" <<'EOF'
import base64, os, struct, sys
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import serialization as s
out = sys.argv[1]
S = lambda b: struct.pack('>I', len(b)) + b
def put(name, kind, blob, comment):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        open(path, 'w').write(f"{kind} {base64.b64encode(blob).decode()}{' ' + comment if comment else ''}\n")
ed = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
pt = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(s.Encoding.X962, s.PublicFormat.UncompressedPoint)
put('sk-ed25519.pub', 'sk-ssh-ed25519@openssh.com', S(b'sk-ssh-ed25519@openssh.com') + S(ed) + S(b'ssh:'), 'sk-ed25519@fixtures')
put('sk-ecdsa.pub', 'sk-ecdsa-sha2-nistp256@openssh.com', S(b'sk-ecdsa-sha2-nistp256@openssh.com') + S(b'nistp256') + S(pt) + S(b'ssh:'), 'sk-ecdsa@fixtures')
put('sk-ed25519-nocomment.pub', 'sk-ssh-ed25519@openssh.com', S(b'sk-ssh-ed25519@openssh.com') + S(ed) + S(b'ssh:work'), '')
EOF

cert ed25519 ed25519.pub ca-ed25519
cert ed25519-nocomment ed25519-nocomment.pub ca-rsa2048
cert ecdsa256 ecdsa256.pub ca-ed25519
cert ecdsa384 ecdsa384.pub ca-ecdsa384
cert ecdsa521 ecdsa521.pub ca-rsa2048
cert rsa3072 rsa3072.pub ca-rsa2048 -t rsa-sha2-256
cert rsa1024 rsa1024.pub ca-rsa2048 -t ssh-rsa
cert dsa dsa.pub ca-ecdsa384
cert sk-ed25519 sk-ed25519.pub ca-ed25519
cert sk-ecdsa sk-ecdsa.pub ca-ecdsa384
cert host-ed25519 ed25519-spaces.pub ca-rsa2048 -h -n host.example.com
cert options-ecdsa256 ecdsa256.pub ca-ed25519 -O force-command=/bin/true -O source-address=10.0.0.0/8 -O no-pty -O extension:custom@fixtures=x
PRINCIPALS= cert noprincipals-ed25519 ed25519.pub ca-ed25519

# Broken and odd copies, made from the valid ones above. Each says what it changes.
python3 - "$OUT" <<'EOF'
import base64, os, re, struct, sys
out = sys.argv[1]
S = lambda b: struct.pack('>I', len(b)) + b
def read(name):
    kind, b64, *rest = open(os.path.join(out, name)).read().rstrip('\n').split(' ', 2)
    return kind, base64.b64decode(b64), (rest[0] if rest else '')
def fields(blob):
    r, i = [], 0
    while i < len(blob):
        n = struct.unpack('>I', blob[i:i+4])[0]; r.append(blob[i+4:i+4+n]); i += 4 + n
    return r
def text(name, body):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        open(path, 'wb').write(body.encode('latin-1') if isinstance(body, str) else body)
def line(kind, blob, comment='broken@fixtures'):
    return f"{kind} {base64.b64encode(blob).decode()} {comment}\n"

ek, eb, _ = read('ed25519.pub')
e64 = base64.b64encode(eb).decode()
pk, pb, _ = read('ecdsa256.pub')
p64 = base64.b64encode(pb).decode()
rk, rb, _ = read('rsa3072.pub')
sk, sb, _ = read('sk-ed25519.pub')
xk, xb, _ = read('sk-ecdsa.pub')
ck, cb, _ = read('ed25519-cert.pub')
assert p64.endswith('=') and not p64.endswith('==')

# base64 (sshbuf_b64tod → b64_pton: standard alphabet, exact padding, zero slop bits, whitespace skipped)
text('b64-stray-char.pub', f"{ek} {e64[:30]}!{e64[30:]} x\n")
text('b64-urlsafe-dash.pub', f"{ek} {e64[:30]}-{e64[31:]} x\n")
text('b64-urlsafe-underscore.pub', f"{ek} {e64[:30]}_{e64[31:]} x\n")
text('b64-missing-pad.pub', f"{pk} {p64[:-1]} x\n")
text('b64-extra-pad.pub', f"{pk} {p64}= x\n")
text('b64-pad-in-middle.pub', f"{ek} {e64[:20]}={e64[20:]} x\n")
slop = p64[-2]; alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
text('b64-nonzero-slop-bits.pub', f"{pk} {p64[:-2]}{alphabet[alphabet.index(slop) | 1]}= x\n")
text('b64-inner-cr.pub', f"{ek} {e64[:30]}\r{e64[30:]} x\n")
text('b64-inner-vtab.pub', f"{ek} {e64[:30]}\v{e64[30:]} x\n")
text('b64-truncated.pub', f"{ek} {e64[:-4]} x\n")
# line layout (do_fingerprint: comments, options, known_hosts hosts, several keys, CRLF)
text('line-options.pub', f'from="10.0.0.1",no-pty {ek} {e64} with-options\n')
text('line-known-hosts.pub', f'host1.example.com,10.0.0.1 {ek} {e64}\n')
text('line-several-keys.pub', f'# two keys\n\n{ek} {e64} first\n{pk} {p64} second\n')
text('line-crlf.pub', f'{ek} {e64} crlf\r\n')
text('line-crlf-nocomment.pub', f'{ek} {e64}\r\n')
text('line-trailing-space.pub', f'{ek} {e64} \n')
text('line-type-mismatch.pub', f'ssh-rsa {e64} x\n')
text('line-unknown-type.pub', f'ssh-foo {e64} x\n')
text('line-only-type.pub', f'{ek}\n')
text('empty.pub', '')
text('garbage.pub', 'not a key at all\n')
# blob structure (sshkey_from_blob_internal and each type's deserialize_public)
text('blob-trailing-byte.pub', line(ek, eb + b'\0'))
text('blob-truncated.pub', line(ek, eb[:-1]))
text('ed25519-31-bytes.pub', line(ek, S(b'ssh-ed25519') + S(fields(eb)[1][:31])))
text('ed25519-33-bytes.pub', line(ek, S(b'ssh-ed25519') + S(fields(eb)[1] + b'\1')))
text('blob-type-trailing-nul.pub', line(ek, S(b'ssh-ed25519\0') + S(fields(eb)[1])))
text('blob-type-inner-nul.pub', line(ek, S(b'ssh-ed25\x0019') + S(fields(eb)[1])))
text('blob-shortname-type.pub', line(ek, S(b'ED25519') + S(fields(eb)[1])))
f = fields(pb)
text('ecdsa-off-curve.pub', line(pk, S(f[0]) + S(f[1]) + S(f[2][:-1] + bytes([f[2][-1] ^ 1]))))
text('ecdsa-compressed-point.pub', line(pk, S(f[0]) + S(f[1]) + S(bytes([2 + (f[2][-1] & 1)]) + f[2][1:33])))
text('ecdsa-curve-mismatch.pub', line(pk, S(f[0]) + S(b'nistp384') + S(f[2])))
text('ecdsa-unknown-curve.pub', line(pk, S(f[0]) + S(b'nistp255') + S(f[2])))
text('ecdsa-point-short.pub', line(pk, S(f[0]) + S(f[1]) + S(f[2][:-1])))
text('ecdsa-line-curve-mismatch.pub', line('ecdsa-sha2-nistp384', pb))
e, n = fields(rb)[1], fields(rb)[2]
import secrets
def rsa(bits, e=b'\x01\x00\x01'):
    v = secrets.randbits(bits) | (1 << (bits - 1)) | 1
    nb = v.to_bytes((bits + 7) // 8, 'big')
    return (b'\0' + nb) if nb[0] & 0x80 else nb
text('rsa-768.pub', line('ssh-rsa', S(b'ssh-rsa') + S(b'\x01\x00\x01') + S(rsa(768))))
text('rsa-1023.pub', line('ssh-rsa', S(b'ssh-rsa') + S(b'\x01\x00\x01') + S(rsa(1023))))
text('rsa-1024-unfactored.pub', line('ssh-rsa', S(b'ssh-rsa') + S(b'\x01\x00\x01') + S(rsa(1024))))
text('rsa-16385.pub', line('ssh-rsa', S(b'ssh-rsa') + S(b'\x01\x00\x01') + S(rsa(16385))))
text('rsa-exponent-1.pub', line(rk, S(b'ssh-rsa') + S(b'\x01') + S(n)))
text('rsa-exponent-0.pub', line(rk, S(b'ssh-rsa') + S(b'') + S(n)))
text('rsa-exponent-leading-zero.pub', line(rk, S(b'ssh-rsa') + S(b'\0\x01\x00\x01') + S(n)))
text('rsa-modulus-negative.pub', line(rk, S(b'ssh-rsa') + S(e) + S(n[1:] if n[0] == 0 else n)))
text('rsa-sha2-256-type.pub', line('rsa-sha2-256', S(b'rsa-sha2-256') + S(e) + S(n)))
sf = fields(sb)
text('sk-ed25519-no-application.pub', line(sk, S(sf[0]) + S(sf[1])))
text('sk-ed25519-application-nul.pub', line(sk, S(sf[0]) + S(sf[1]) + S(b'ssh:\0')))
text('sk-ed25519-trailing.pub', line(sk, sb + b'\0\0\0\0'))
xf = fields(xb)
text('sk-ecdsa-no-application.pub', line(xk, S(xf[0]) + S(xf[1]) + S(xf[2])))
text('sk-ecdsa-off-curve.pub', line(xk, S(xf[0]) + S(xf[1]) + S(xf[2][:-1] + bytes([xf[2][-1] ^ 1])) + S(xf[3])))
text('sk-ecdsa-line-plain-type.pub', line('ecdsa-sha2-nistp256', xb))
# certificates (cert_parse: structure, then the CA signature)
text('cert-trailing-byte.pub', line(ck, cb + b'\0'))
text('cert-truncated.pub', line(ck, cb[:-1]))
bad = bytearray(cb); bad[-5] ^= 1
text('cert-bad-signature.pub', line(ck, bytes(bad)))
kid = cb.index(b'fixture-ed25519'); bad = bytearray(cb); bad[kid] ^= 1
text('cert-key-id-changed.pub', line(ck, bytes(bad)))
text('cert-line-plain-type.pub', line('ssh-ed25519', cb))
EOF

# A damaged copy of an unencrypted OpenSSH private key: its two check words differ.
python3 - "$OUT" <<'EOF'
import base64, os, struct, sys
out = sys.argv[1]
for src, name in [('ed25519.key', 'ed25519-damaged-check.key'), ('rsa3072.key', 'rsa3072-damaged-check.key')]:
    path = os.path.join(out, name)
    if os.path.exists(path): continue
    lines = open(os.path.join(out, src)).read().splitlines()
    raw = bytearray(base64.b64decode(''.join(lines[1:-1])))
    i = 15  # after "openssh-key-v1\0": cipher, kdf, kdf options, count, public blob, then the private section
    for _ in range(3): i += 4 + struct.unpack('>I', raw[i:i+4])[0]
    i += 4
    i += 4 + struct.unpack('>I', raw[i:i+4])[0]
    i += 4  # the private section's length; then check1, check2
    raw[i + 4] ^= 0xff
    b64 = base64.b64encode(bytes(raw)).decode()
    open(path, 'w').write(lines[0] + '\n' + '\n'.join(b64[j:j+70] for j in range(0, len(b64), 70)) + '\n' + lines[-1] + '\n')
EOF

# The reference verdicts: what ssh-keygen -l -f printed, and its exit code (never redone).
for f in "$OUT"/*; do
  case $f in *.ssh-keygen.txt|*/README.md) continue ;; esac
  ref="$f.ssh-keygen.txt"
  [ -e "$ref" ] && continue
  stdout=$(LC_ALL=C ssh-keygen -l -f "$f" 2>/dev/null; printf '.%d' $?)
  { echo "exit ${stdout##*.}"; printf '%s' "${stdout%.*}"; } > "$ref"
done
echo "make-ssh-fixtures: $(ls "$OUT" | grep -vc '\.ssh-keygen\.txt$') fixtures in $OUT ($(ssh -V 2>&1))"
