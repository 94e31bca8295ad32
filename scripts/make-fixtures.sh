#!/usr/bin/env bash
# Adds the MISSING cases of the fixtures corpus for the non-SSH formats (issue 11):
#   fixtures/csr/ fixtures/p12/ fixtures/x509/ fixtures/vault/ fixtures/env/ fixtures/templates/
#
#   npm run build && bash scripts/make-fixtures.sh      (from anywhere)
#
# Each case is one input file plus CASE.expected.json: what the reference tool (openssl, age, bash,
# Node's util.parseEnv) said about it — recorded here, never hand-written — and what keysmith must
# answer, written by hand below. A case whose CASE.expected.json exists is NEVER made again (keys and
# ciphertexts would churn): to change a case, delete its files and run the script; to add one, add a
# block below. test/integration/fixtures.test.ts runs every case through keysmith.
# Needs bash, coreutils, openssl (3.0+), age, age-keygen, node, and the built keysmith (bin/keysmith.js).
# All keys and identities here are throwaway test keys.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly ROOT=$PWD FX=$PWD/fixtures
for tool in openssl age age-keygen node; do command -v "$tool" >/dev/null || { echo "make-fixtures: $tool not found" >&2; exit 1; }; done
[[ -f bin/keysmith.js && -f dist/cli.js ]] || { echo "make-fixtures: run npm run build first" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keysmith-fixtures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export LC_ALL=C
ADDED=0

# ---------------------------------------------------------------------------------------------
# Recording helpers. A case is made in its folder ($DIR); `ref` runs a reference command there and
# appends its verdict, `fact` a fact, and `finish` writes CASE.expected.json.

# want NAME: whether the case is missing (and so should be made now).
want() {
  CASE=$1
  rm -f "$WORK/refs.jsonl" "$WORK/facts.jsonl"
  [[ ! -e "$DIR/$CASE.expected.json" ]]
}

# ref LABEL -- COMMAND...   (run in $DIR; its exit code and a summary of its output are kept)
ref() {
  local label=$1 rc=0 out; shift 2
  out=$(cd "$DIR" && "$@" 2>&1 </dev/null) || rc=$?
  LABEL=$label RC=$rc OUT=$out node -e '
    const lines = [...new Set(process.env.OUT.split("\n")
      .map((l) => l.replace(/^[0-9A-F]{8,}:error:/, "error:").trimEnd())
      .filter((l) => l && !/^[A-Za-z0-9+/=]{40,}$/.test(l) && !/^-----(BEGIN|END) /.test(l)))].slice(0, 40);
    console.log(JSON.stringify({ label: process.env.LABEL, command: process.argv.slice(1), exit: Number(process.env.RC), output: lines }));
  ' -- "$@" >>"$WORK/refs.jsonl"
}

# fact KEY JSON-VALUE
fact() { printf '%s\n' "$(node -e 'console.log(JSON.stringify({ k: process.argv[1], v: JSON.parse(process.argv[2]) }))' -- "$1" "$2")" >>"$WORK/facts.jsonl"; }

# finish FILE ABOUT KEYSMITH-JSON [NOTE]   writes $DIR/$CASE.expected.json
finish() {
  FILE=$1 ABOUT=$2 KS=$3 NOTE=${4:-} NAME=$CASE REFS="$WORK/refs.jsonl" FACTS="$WORK/facts.jsonl" node -e '
    const fs = require("fs");
    const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []);
    const reference = {};
    for (const r of read(process.env.REFS)) { const { label, ...rest } = r; reference[label] = rest; }
    const facts = Object.fromEntries(read(process.env.FACTS).map((f) => [f.k, f.v]));
    if (Object.keys(facts).length) reference.facts = facts;
    const out = { name: process.env.NAME, file: process.env.FILE, about: process.env.ABOUT, reference, keysmith: JSON.parse(process.env.KS), note: process.env.NOTE || null };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  ' >"$DIR/$CASE.expected.json"
  ADDED=$((ADDED + 1))
  echo "make-fixtures: added ${DIR#"$ROOT"/}/$CASE"
}

# flip FILE OFFSET [BYTE]: overwrites one byte (default: the byte XOR 0x01).
flip() { node -e 'const fs=require("fs"); const [f,o,b]=process.argv.slice(1); const d=fs.readFileSync(f); const i=Number(o)<0?d.length+Number(o):Number(o); d[i]=b===undefined?d[i]^1:Number(b); fs.writeFileSync(f,d)' -- "$@"; }
# cut FILE N: keeps the first N bytes (negative: drops the last -N).
cut_to() { node -e 'const fs=require("fs"); const [f,n]=process.argv.slice(1); const d=fs.readFileSync(f); fs.writeFileSync(f,d.subarray(0,Number(n)<0?d.length+Number(n):Number(n)))' -- "$@"; }
# offset FILE STRING: byte offset of the first STRING in FILE.
offset() { node -e 'const fs=require("fs"); const i=fs.readFileSync(process.argv[1]).indexOf(process.argv[2]); if(i<0) process.exit(1); console.log(i)' -- "$@"; }

readonly NAMEOPT=esc_2253,esc_ctrl,utf8,dump_nostr,dump_unknown,dump_der,sep_comma_plus_space,sname

# ---------------------------------------------------------------------------------------------
# CSRs: openssl req -verify is the reference; keysmith's `tls inspect --json` shows the request
# (signatureValid) and `tls sign` must refuse what openssl refuses.
DIR=$FX/csr; mkdir -p "$DIR"

csr_refs() { # FILE [der]
  local inform=(); [[ ${2:-} == der ]] && inform=(-inform DER)
  ref verify -- openssl req "${inform[@]}" -in "$1" -noout -verify
  local subject sans
  if subject=$(cd "$DIR" && openssl req "${inform[@]}" -in "$1" -noout -subject -nameopt "$NAMEOPT" 2>/dev/null); then
    fact subject "$(node -e 'console.log(JSON.stringify(process.argv[1].replace(/^subject=/, "")))' -- "$subject")"
    sans=$(cd "$DIR" && openssl req "${inform[@]}" -in "$1" -noout -text 2>/dev/null | grep -A1 'Subject Alternative Name' | tail -n +2 | sed 's/^ *//') || sans=
    fact sans "$(node -e 'console.log(JSON.stringify(process.argv[1] ? process.argv[1].split(", ") : []))' -- "$sans")"
  fi
}

mkcsr() { # NAME KEYSPEC SUBJECT [SAN]
  local args=(-new -nodes -keyout "$WORK/$1.key" -subj "$3" -out "$DIR/$1.csr")
  case $2 in
    rsa) args+=(-newkey rsa:2048) ;;
    ec) args+=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    ec384) args+=(-newkey ec -pkeyopt ec_paramgen_curve:P-384) ;;
    ed25519) args+=(-newkey ed25519) ;;
  esac
  [[ -n ${4:-} ]] && args+=(-addext "subjectAltName=$4")
  openssl req "${args[@]}" 2>/dev/null
}

readonly CSR_OK='{"args":["tls","inspect","FILE","--json"],"exit":0,"signatureValid":true,"sign":{"exit":0}}'
readonly CSR_BADSIG='{"args":["tls","inspect","FILE","--json"],"exit":0,"signatureValid":false,"sign":{"exit":2,"code":"ERR_TLS_BAD_CSR"}}'
readonly CSR_LABEL_BUG='{"args":["tls","inspect","FILE","--json"],"exit":2,"code":"ERR_TLS_MALFORMED","sign":{"exit":2,"code":"ERR_TLS_BAD_CSR"},"note":"regression: tls sign once signed a request under any PEM label; openssl req and tls inspect refuse it (RFC 7468 §7: a request is labelled CERTIFICATE REQUEST)"}'
readonly CSR_MALFORMED='{"args":["tls","inspect","FILE","--json"],"exit":2,"code":"ERR_TLS_MALFORMED","sign":{"exit":2,"code":"ERR_TLS_BAD_CSR"}}'

if want rsa-san; then
  mkcsr rsa-san rsa '/C=XX/O=Fixture Corp/CN=rsa.fixture.test' 'DNS:rsa.fixture.test,DNS:*.rsa.fixture.test,IP:192.0.2.7,email:ops@fixture.test,URI:https://fixture.test/id'
  csr_refs rsa-san.csr; finish rsa-san.csr 'RSA-2048 request with DNS, wildcard, IP, email and URI SANs' "$CSR_OK"
fi
if want rsa-nosan; then
  mkcsr rsa-nosan rsa '/CN=nosan.fixture.test'
  csr_refs rsa-nosan.csr; finish rsa-nosan.csr 'RSA-2048 request without extensions (CN only)' "$CSR_OK"
fi
if want ec-san; then
  mkcsr ec-san ec '/O=Fixture Corp/CN=ec.fixture.test' 'DNS:ec.fixture.test,IP:2001:db8::1'
  csr_refs ec-san.csr; finish ec-san.csr 'EC P-256 request with DNS and IPv6 SANs' "$CSR_OK"
fi
if want ec384-nosan; then
  mkcsr ec384-nosan ec384 '/CN=p384.fixture.test'
  csr_refs ec384-nosan.csr; finish ec384-nosan.csr 'EC P-384 request without SANs' "$CSR_OK"
fi
if want ed25519-san; then
  mkcsr ed25519-san ed25519 '/CN=ed.fixture.test' 'DNS:ed.fixture.test'
  csr_refs ed25519-san.csr; finish ed25519-san.csr 'Ed25519 request with a DNS SAN' "$CSR_OK"
fi
if want empty-subject-san; then
  mkcsr empty-subject-san ec '/' 'DNS:nosubject.fixture.test'
  csr_refs empty-subject-san.csr; finish empty-subject-san.csr 'EC request with an empty subject and a SAN' "$CSR_OK"
fi
if want utf8-subject; then
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$WORK/u.key" -utf8 -subj '/O=Fixtüre Größe/CN=utf8.fixture.test' -addext 'subjectAltName=DNS:utf8.fixture.test' -out "$DIR/utf8-subject.csr" 2>/dev/null
  csr_refs utf8-subject.csr; finish utf8-subject.csr 'EC request whose subject has UTF-8 (non-ASCII) characters' "$CSR_OK"
fi
if want der; then
  mkcsr der-src ec '/CN=der.fixture.test' 'DNS:der.fixture.test'
  openssl req -in "$DIR/der-src.csr" -outform DER -out "$DIR/der.der"; rm "$DIR/der-src.csr"
  csr_refs der.der der; finish der.der 'EC request in DER (no PEM armour); keysmith recognises it by content' "$CSR_OK"
fi
if want new-label; then
  mkcsr new-label ec '/CN=new-label.fixture.test' 'DNS:new-label.fixture.test'
  sed -i 's/CERTIFICATE REQUEST-----/NEW CERTIFICATE REQUEST-----/' "$DIR/new-label.csr"
  csr_refs new-label.csr; finish new-label.csr 'PEM labelled NEW CERTIFICATE REQUEST (Netscape/MSIE form, RFC 7468 §7), which both read' "$CSR_OK"
fi
if want bad-signature; then
  mkcsr bad-signature ec '/CN=badsig.fixture.test' 'DNS:badsig.fixture.test'
  openssl req -in "$DIR/bad-signature.csr" -outform DER -out "$WORK/b.der"; flip "$WORK/b.der" -3
  openssl req -inform DER -in "$WORK/b.der" -out "$DIR/bad-signature.csr" 2>/dev/null
  csr_refs bad-signature.csr; finish bad-signature.csr 'EC request whose signature has one byte changed (the DER stays well-formed)' "$CSR_BADSIG" \
    'tls inspect is a viewer: it shows the request with signatureValid false and exits 0 (openssl req -verify exits 1); tls sign refuses it (README: tls sign checks the request signature; RFC 2986 §3: the signature proves possession of the key)'
fi
if want tampered-subject; then
  mkcsr tampered-subject rsa '/CN=aaaa.fixture.test' 'DNS:aaaa.fixture.test'
  openssl req -in "$DIR/tampered-subject.csr" -outform DER -out "$WORK/t.der"
  flip "$WORK/t.der" "$(offset "$WORK/t.der" aaaa)" 0x7a   # CN aaaa -> zaaa, signature unchanged
  openssl req -inform DER -in "$WORK/t.der" -out "$DIR/tampered-subject.csr" 2>/dev/null
  csr_refs tampered-subject.csr; finish tampered-subject.csr 'RSA request whose subject CN was changed after signing (aaaa -> zaaa)' "$CSR_BADSIG" \
    'as bad-signature: inspect shows signatureValid false with exit 0; tls sign refuses'
fi
if want truncated; then
  mkcsr truncated-src ec '/CN=trunc.fixture.test' 'DNS:trunc.fixture.test'
  openssl req -in "$DIR/truncated-src.csr" -outform DER -out "$DIR/truncated.der"; rm "$DIR/truncated-src.csr"; cut_to "$DIR/truncated.der" -20
  csr_refs truncated.der der; finish truncated.der 'DER request with its last 20 bytes cut off' "$CSR_MALFORMED"
fi
if want truncated-pem; then
  mkcsr truncated-pem ec '/CN=trunc-pem.fixture.test' 'DNS:trunc-pem.fixture.test'
  head -n 4 "$DIR/truncated-pem.csr" >"$WORK/t.pem"; mv "$WORK/t.pem" "$DIR/truncated-pem.csr"
  csr_refs truncated-pem.csr; finish truncated-pem.csr 'PEM request cut after its third base64 line (no END line)' \
    '{"args":["tls","inspect","FILE","--json"],"exit":2,"code":"ERR_TLS_MALFORMED","sign":{"exit":2,"code":"ERR_TLS_BAD_CSR"}}'
fi
if want trailing-garbage; then
  mkcsr trailing-garbage ec '/CN=trailing.fixture.test' 'DNS:trailing.fixture.test'
  printf 'garbage after the END line\n\x00\x01\x02\n' >>"$DIR/trailing-garbage.csr"
  csr_refs trailing-garbage.csr; finish trailing-garbage.csr 'PEM request followed by text and binary bytes after its END line (ignored by both, RFC 7468 §2)' "$CSR_OK"
fi
if want trailing-garbage-der; then
  mkcsr tg-src ec '/CN=trailing-der.fixture.test' 'DNS:trailing-der.fixture.test'
  openssl req -in "$DIR/tg-src.csr" -outform DER -out "$DIR/trailing-garbage-der.der"; rm "$DIR/tg-src.csr"
  printf '\x05\x00garbage' >>"$DIR/trailing-garbage-der.der"
  csr_refs trailing-garbage-der.der der; finish trailing-garbage-der.der 'DER request followed by 9 bytes that are not part of it (both read the first object and ignore the rest)' "$CSR_OK"
fi
if want wrong-label; then
  mkcsr wrong-label ec '/CN=wrong-label.fixture.test' 'DNS:wrong-label.fixture.test'
  sed -i 's/CERTIFICATE REQUEST-----/CERTIFICATE-----/' "$DIR/wrong-label.csr"
  csr_refs wrong-label.csr; finish wrong-label.csr 'a request inside BEGIN/END CERTIFICATE (wrong PEM label)' "$CSR_LABEL_BUG"
fi
if want key-label; then
  mkcsr key-label ec '/CN=key-label.fixture.test' 'DNS:key-label.fixture.test'
  sed -i 's/CERTIFICATE REQUEST-----/PRIVATE KEY-----/' "$DIR/key-label.csr"
  csr_refs key-label.csr; finish key-label.csr 'a request inside BEGIN/END PRIVATE KEY (a label that is neither request nor certificate)' "$CSR_LABEL_BUG"
fi
rm -f "$DIR"/*-src.csr

# ---------------------------------------------------------------------------------------------
# PKCS#12: `openssl pkcs12 -in F -passin pass:P -nokeys -info` (and -legacy for RC2 files) is the
# reference; keysmith reads them in `tls inspect` (src/tls/p12.ts fromPkcs12), the only command that does.
DIR=$FX/p12; mkdir -p "$DIR/src"
S=$DIR/src
if [[ ! -f $S/root.pem ]]; then
  # The certificates the cases bundle (made once; dates 2025..2045, fixed serials).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$S/root.key" -subj '/CN=Fixture P12 Root' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' -set_serial 1 -days 7300 -out "$S/root.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$S/intermediate.key" -subj '/CN=Fixture P12 Intermediate' -out "$WORK/i.csr" 2>/dev/null
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$WORK/ca.ext"
  openssl x509 -req -in "$WORK/i.csr" -CA "$S/root.pem" -CAkey "$S/root.key" -set_serial 2 -days 7300 -extfile "$WORK/ca.ext" -out "$S/intermediate.pem" 2>/dev/null
  for k in ec rsa ed25519; do
    case $k in ec) spec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;; rsa) spec=(-newkey rsa:2048) ;; ed25519) spec=(-newkey ed25519) ;; esac
    openssl req -new "${spec[@]}" -nodes -keyout "$S/leaf-$k.key" -subj "/CN=$k.p12.fixture.test" -out "$WORK/l.csr" 2>/dev/null
    printf 'subjectAltName=DNS:%s.p12.fixture.test\nbasicConstraints=critical,CA:FALSE\n' "$k" >"$WORK/leaf.ext"
    openssl x509 -req -in "$WORK/l.csr" -CA "$S/intermediate.pem" -CAkey "$S/intermediate.key" -set_serial "$((10 + ${#k}))" -days 7300 -extfile "$WORK/leaf.ext" -out "$S/leaf-$k.pem" 2>/dev/null
  done
fi

# p12_refs FILE PASSWORD [legacy]
p12_refs() {
  ref openssl -- openssl pkcs12 -in "$1" -passin "pass:$2" -nokeys -info
  [[ ${3:-} == legacy ]] && ref openssl-legacy -- openssl pkcs12 -legacy -in "$1" -passin "pass:$2" -nokeys -info
  ref openssl-key -- openssl pkcs12 ${3:+-legacy} -in "$1" -passin "pass:$2" -nocerts -nodes
  # Facts: the certificates' subjects in file order, and whether a key is inside (from OpenSSL).
  local certs keys
  if certs=$(cd "$DIR" && openssl pkcs12 ${3:+-legacy} -in "$1" -passin "pass:$2" -nokeys 2>/dev/null); then
    fact subjects "$(printf '%s\n' "$certs" | node -e 'console.log(JSON.stringify(require("fs").readFileSync(0,"utf8").split("\n").filter((l)=>l.startsWith("subject=")).map((l)=>l.slice(8).replace(/ = /g,"="))))')"
  fi
  if keys=$(cd "$DIR" && openssl pkcs12 ${3:+-legacy} -in "$1" -passin "pass:$2" -nocerts -nodes 2>/dev/null); then
    fact key "$(grep -q 'BEGIN PRIVATE KEY' <<<"$keys" && echo true || echo false)"
  fi
}
ks_p12() { # PASSWORD EXIT [CODE] [KEY:true|false]
  if [[ $2 == 0 ]]; then printf '{"args":["tls","inspect","FILE","--chain","--json","--password-stdin"],"stdin":%s,"exit":0,"key":%s}' "$(node -e 'console.log(JSON.stringify(process.argv[1]+"\n"))' -- "$1")" "$4"
  else printf '{"args":["tls","inspect","FILE","--chain","--json","--password-stdin"],"stdin":%s,"exit":%s,"code":"%s"}' "$(node -e 'console.log(JSON.stringify(process.argv[1]+"\n"))' -- "$1")" "$2" "$3"; fi
}
export_p12() { openssl pkcs12 -export -passout "pass:$1" -out "$DIR/$2" "${@:3}"; }

if want modern-ec-chain; then
  export_p12 fixture modern-ec-chain.p12 -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem" -certfile <(cat "$S/intermediate.pem" "$S/root.pem") -name 'EC leaf'
  p12_refs modern-ec-chain.p12 fixture; finish modern-ec-chain.p12 'OpenSSL 3 default (PBES2 AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC): EC key, leaf + intermediate + root' "$(ks_p12 fixture 0 '' true)"
fi
if want modern-rsa; then
  export_p12 fixture modern-rsa.p12 -inkey "$S/leaf-rsa.key" -in "$S/leaf-rsa.pem"
  p12_refs modern-rsa.p12 fixture; finish modern-rsa.p12 'OpenSSL 3 default: RSA-2048 key and its certificate' "$(ks_p12 fixture 0 '' true)"
fi
if want modern-ed25519; then
  export_p12 fixture modern-ed25519.p12 -inkey "$S/leaf-ed25519.key" -in "$S/leaf-ed25519.pem" -certfile "$S/intermediate.pem"
  p12_refs modern-ed25519.p12 fixture; finish modern-ed25519.p12 'OpenSSL 3 default: Ed25519 key, leaf + intermediate' "$(ks_p12 fixture 0 '' true)"
fi
if want modern-nokey; then
  export_p12 fixture modern-nokey.p12 -nokeys -in "$S/leaf-ec.pem" -certfile <(cat "$S/intermediate.pem" "$S/root.pem")
  p12_refs modern-nokey.p12 fixture; finish modern-nokey.p12 'OpenSSL 3 default, certificates only (-nokeys): three certificates, no key' "$(ks_p12 fixture 0 '' false)"
fi
if want key-only; then
  export_p12 fixture key-only.p12 -nocerts -inkey "$S/leaf-ec.key"
  p12_refs key-only.p12 fixture; finish key-only.p12 'a key and no certificate (-nocerts)' "$(ks_p12 fixture 2 ERR_TLS_MALFORMED)" \
    'openssl -nokeys prints nothing and exits 0; tls inspect shows certificates, so a file without one is "no certificate found" (exit 2)'
fi
if want legacy-rc2; then
  export_p12 fixture legacy-rc2.p12 -legacy -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem" -certfile "$S/intermediate.pem"
  p12_refs legacy-rc2.p12 fixture legacy; finish legacy-rc2.p12 '-legacy (OpenSSL 1.1 default): certificates under RC2-40-CBC, key under 3DES, SHA-1 MAC' "$(ks_p12 fixture 0 '' true)" \
    'OpenSSL 3 refuses RC2 without -legacy (its legacy provider); keysmith reads legacy files as the README says (tls inspect also reads legacy RC2/3DES files)'
fi
if want legacy-3des; then
  export_p12 fixture legacy-3des.p12 -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 -inkey "$S/leaf-rsa.key" -in "$S/leaf-rsa.pem"
  p12_refs legacy-3des.p12 fixture; finish legacy-3des.p12 'certificates and key under pbeWithSHA1And3-KeyTripleDES-CBC, SHA-1 MAC (Windows and Java export it)' "$(ks_p12 fixture 0 '' true)"
fi
if want empty-password; then
  export_p12 '' empty-password.p12 -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  p12_refs empty-password.p12 ''; finish empty-password.p12 'OpenSSL 3 default with an empty password' \
    "$(ks_p12 '' 0 '' true | sed 's/}$/,"note":"regression: tls inspect once refused an empty PKCS#12 password before reading the file; RFC 7292 and openssl -passin pass: allow it"}/')"
fi
if want utf8-password; then
  export_p12 'pässwörd-✓' utf8-password.p12 -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  p12_refs utf8-password.p12 'pässwörd-✓'; finish utf8-password.p12 'OpenSSL 3 default with a non-ASCII password (UTF-8 for PBKDF2, BMPString for the MAC)' "$(ks_p12 'pässwörd-✓' 0 '' true)" \
    'regression: keysmith once verified the MAC but could not decrypt (forge keyed PBKDF2 with the password as Latin-1); RFC 8018 §3 leaves the encoding open, OpenSSL 3 uses UTF-8'
fi
if want nomac; then
  export_p12 fixture nomac.p12 -nomac -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  p12_refs nomac.p12 fixture; finish nomac.p12 'no integrity MAC (-nomac)' "$(ks_p12 fixture 0 '' true)"
fi
if want wrong-password; then
  cp "$DIR/modern-ec-chain.p12" "$DIR/wrong-password.p12" 2>/dev/null || export_p12 fixture wrong-password.p12 -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  p12_refs wrong-password.p12 not-the-password; finish wrong-password.p12 'a good OpenSSL 3 file, opened with the wrong password' "$(ks_p12 not-the-password 4 ERR_TLS_P12_PASSWORD)"
fi
if want wrong-password-legacy; then
  export_p12 fixture wrong-password-legacy.p12 -legacy -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  p12_refs wrong-password-legacy.p12 not-the-password legacy; finish wrong-password-legacy.p12 'a good -legacy file, opened with the wrong password' "$(ks_p12 not-the-password 4 ERR_TLS_P12_PASSWORD)"
fi
if want truncated; then
  export_p12 fixture truncated.p12 -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  cut_to "$DIR/truncated.p12" 600
  p12_refs truncated.p12 fixture; finish truncated.p12 'an OpenSSL 3 file cut to its first 600 bytes' "$(ks_p12 fixture 2 ERR_TLS_MALFORMED)"
fi
if want tampered-mac; then
  export_p12 fixture tampered-mac.p12 -inkey "$S/leaf-ec.key" -in "$S/leaf-ec.pem"
  flip "$DIR/tampered-mac.p12" -20   # inside the 32-byte MAC value (then an 8-byte salt and the iteration count)
  p12_refs tampered-mac.p12 fixture; finish tampered-mac.p12 'an OpenSSL 3 file with one byte of its MAC value changed' "$(ks_p12 fixture 4 ERR_TLS_P12_PASSWORD)" \
    'both report a MAC mismatch as a wrong password (RFC 7292 §5: the MAC cannot tell a wrong password from altered content)'
fi

# ---------------------------------------------------------------------------------------------
# Certificates beyond fixtures/tls (which has chains, expired, not yet valid and an empty subject):
# encodings and PEM framing. References: openssl x509 (first certificate) and openssl storeutl (count).
DIR=$FX/x509; mkdir -p "$DIR/src"
S=$DIR/src
if [[ ! -f $S/a.pem ]]; then
  for n in a b c; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/$n.key" -subj "/O=Fixture X509/CN=$n.x509.fixture.test" \
      -addext "subjectAltName=DNS:$n.x509.fixture.test" -set_serial "0x0$(printf %s $n | od -An -tx1 | tr -d ' ')" -days 7300 -out "$S/$n.pem" 2>/dev/null
  done
fi
x509_refs() { # FILE [der]
  local inform=(); [[ ${2:-} == der ]] && inform=(-inform DER)
  ref x509 -- openssl x509 "${inform[@]}" -in "$1" -noout -subject -nameopt "$NAMEOPT"
  ref storeutl -- sh -c 'openssl storeutl -noout -certs "$1" 2>/dev/null | grep "^Total found"' - "$1"
}
ks_x509() { # EXIT (COUNT|CODE)
  if [[ $1 == 0 ]]; then printf '{"args":["tls","inspect","FILE","--chain","--json"],"exit":0,"count":%s}' "$2"
  else printf '{"args":["tls","inspect","FILE","--chain","--json"],"exit":%s,"code":"%s"}' "$1" "$2"; fi
}
if want der; then
  openssl x509 -in "$S/a.pem" -outform DER -out "$DIR/der.der"
  x509_refs der.der der; finish der.der 'a certificate in DER' "$(ks_x509 0 1)"
fi
if want crlf; then
  sed 's/$/\r/' "$S/a.pem" >"$DIR/crlf.pem"
  x509_refs crlf.pem; finish crlf.pem 'PEM with CRLF line ends (as Windows tools write it)' "$(ks_x509 0 1)"
fi
if want bundle-text-between; then
  { echo 'Subject: a (leaf)'; cat "$S/a.pem"; printf '\nsome notes between blocks\n  -- not PEM --\n'; cat "$S/b.pem"; echo '# trailing comment'; cat "$S/c.pem"; echo 'the end'; } >"$DIR/bundle-text-between.pem"
  x509_refs bundle-text-between.pem; finish bundle-text-between.pem 'three PEM certificates with text before, between and after them (RFC 7468 §5.2: explanatory text is ignored)' "$(ks_x509 0 3)"
fi
if want bundle-with-key; then
  { cat "$S/a.pem"; cat "$WORK/b.key" 2>/dev/null || openssl genpkey -algorithm ed25519; cat "$S/b.pem"; } >"$DIR/bundle-with-key.pem"
  x509_refs bundle-with-key.pem; finish bundle-with-key.pem 'certificate, PRIVATE KEY block, certificate: the key block is passed over' "$(ks_x509 0 2)"
fi
if want trusted-label; then
  openssl x509 -in "$S/a.pem" -trustout -addtrust serverAuth -out "$DIR/trusted-label.pem"
  x509_refs trusted-label.pem; finish trusted-label.pem 'BEGIN TRUSTED CERTIFICATE (OpenSSL trust settings after the certificate)' "$(ks_x509 0 1)"
fi
if want commented-out; then
  sed 's/^/# /' "$S/a.pem" >"$DIR/commented-out.pem"
  x509_refs commented-out.pem; finish commented-out.pem 'every line of a PEM block commented out with "# ": not a block' "$(ks_x509 2 ERR_TLS_MALFORMED)"
fi
if want indented; then
  sed 's/^/  /' "$S/a.pem" >"$DIR/indented.pem"
  x509_refs indented.pem; finish indented.pem 'a PEM block indented by two spaces: not a block (RFC 7468 §2: the encapsulation boundary starts the line)' "$(ks_x509 2 ERR_TLS_MALFORMED)"
fi
if want bad-base64; then
  sed '3s/^./*/' "$S/a.pem" >"$DIR/bad-base64.pem"
  x509_refs bad-base64.pem; finish bad-base64.pem 'a character that is not base64 (*) in the body' "$(ks_x509 2 ERR_TLS_MALFORMED)"
fi
if want no-end; then
  grep -v '^-----END' "$S/a.pem" >"$DIR/no-end.pem"
  x509_refs no-end.pem; finish no-end.pem 'a BEGIN CERTIFICATE block with no END line' "$(ks_x509 2 ERR_TLS_MALFORMED)"
fi
if want second-damaged; then
  { cat "$S/a.pem"; sed '3s/^./*/' "$S/b.pem"; } >"$DIR/second-damaged.pem"
  x509_refs second-damaged.pem; finish second-damaged.pem 'a good certificate, then a block whose body is not base64' "$(ks_x509 2 ERR_TLS_MALFORMED)" \
    'openssl x509 reads the first block and stops; keysmith reads the whole file and refuses a damaged block anywhere in it (README: a body that is not base64 is an error, not a guess)'
fi
if want der-trailing; then
  openssl x509 -in "$S/a.pem" -outform DER -out "$DIR/der-trailing.der"; printf '\x00\x00trailing' >>"$DIR/der-trailing.der"
  x509_refs der-trailing.der der; finish der-trailing.der 'a DER certificate followed by 10 bytes (both read the first object and ignore the rest)' "$(ks_x509 0 1)"
fi
if want der-truncated; then
  openssl x509 -in "$S/a.pem" -outform DER -out "$DIR/der-truncated.der"; cut_to "$DIR/der-truncated.der" -16
  x509_refs der-truncated.der der; finish der-truncated.der 'a DER certificate with its last 16 bytes cut off' "$(ks_x509 2 ERR_TLS_MALFORMED)"
fi
if want empty; then
  : >"$DIR/empty.pem"
  x509_refs empty.pem; finish empty.pem 'an empty file' "$(ks_x509 2 ERR_TLS_MALFORMED)"
fi
# Already in fixtures/tls (not copied): an empty subject, expired and not-yet-valid certificates.
for c in good-empty-subject expired-leaf notyet-leaf; do
  if want "tls-$c"; then
    x509_refs "../tls/$c/chain.pem"
    case $c in
      good-empty-subject) finish "../tls/$c/chain.pem" 'fixtures/tls: a leaf with an empty subject and a critical SAN, then its intermediate' '{"args":["tls","inspect","FILE","--chain","--json"],"exit":0,"count":2,"first":{"subject":""}}' ;;
      expired-leaf) finish "../tls/$c/chain.pem" 'fixtures/tls: a leaf valid 2020-01-01..2021-01-01' '{"args":["tls","inspect","FILE","--chain","--json"],"exit":0,"count":2,"first":{"status":"expired"}}' ;;
      notyet-leaf) finish "../tls/$c/chain.pem" 'fixtures/tls: a leaf valid from 2090-01-01' '{"args":["tls","inspect","FILE","--chain","--json"],"exit":0,"count":2,"first":{"status":"not-yet-valid"}}' ;;
    esac
  fi
done

# ---------------------------------------------------------------------------------------------
# Vault files: `age -d -i identity.txt F` is the reference; keysmith opens F as KEYSMITH_HOME/vault.age
# with KEYSMITH_AGE_IDENTITY=identity.txt (secret list, then secret set), and must leave a refused
# file byte for byte as it was.
DIR=$FX/vault; mkdir -p "$DIR"
if [[ ! -f $DIR/identity.txt ]]; then age-keygen -o "$DIR/identity.txt" 2>/dev/null; fi
RECIPIENT=$(age-keygen -y "$DIR/identity.txt")
age_refs() {
  ref age -- age -d -i identity.txt -o /dev/null "$1"
  local plain
  if plain=$(cd "$DIR" && age -d -i identity.txt "$1" 2>/dev/null); then fact plaintext "$(node -e 'console.log(JSON.stringify(process.argv[1].slice(0, 400)))' -- "$plain")"; fi
}
ks_vault() { # LIST-EXIT LIST-CODE SET-EXIT [NAMES-JSON]
  if [[ $1 == 0 ]]; then printf '{"list":{"exit":0,"names":%s},"set":{"exit":%s}}' "${4:-[]}" "$3"
  else printf '{"list":{"exit":%s,"code":"%s"},"set":{"exit":%s,"code":"%s"},"unchanged":true}' "$1" "$2" "$3" "$2"; fi
}
# keysmith_vault OUT: a vault written by keysmith itself, with two secrets.
keysmith_vault() {
  local home=$WORK/home-$RANDOM; mkdir -m 700 "$home"; cp "$DIR/identity.txt" "$WORK/id.txt"; chmod 600 "$WORK/id.txt"
  printf %s 'fixture-db-password' | KEYSMITH_HOME=$home KEYSMITH_VAULT=file KEYSMITH_AGE_IDENTITY=$WORK/id.txt node bin/keysmith.js -q secret set db/password - >/dev/null
  printf %s 'fixture-api-token-0123456789' | KEYSMITH_HOME=$home KEYSMITH_VAULT=file KEYSMITH_AGE_IDENTITY=$WORK/id.txt node bin/keysmith.js -q secret set api/token - >/dev/null
  cp "$home/vault.age" "$1"
}
doc() { printf '%s' "$1" | age -r "$RECIPIENT" -o "$DIR/$2"; }
readonly GOOD_DOC='{"format":"keysmith-vault","version":1,"records":{"db/password":{"kind":"secret","value":"from-the-age-cli","fields":{"user":"app"},"created":"2025-01-01T00:00:00.000Z","updated":"2025-01-01T00:00:00.000Z"}}}'
if want keysmith-made; then
  keysmith_vault "$DIR/keysmith-made.age"
  age_refs keysmith-made.age; finish keysmith-made.age 'written by keysmith secret set (two secrets) to identity.txt' "$(ks_vault 0 '' 0 '["api/token","db/password"]')"
fi
if want age-cli; then
  doc "$GOOD_DOC" age-cli.age
  age_refs age-cli.age; finish age-cli.age 'a vault document written by hand and encrypted by the age CLI (age -r)' "$(ks_vault 0 '' 0 '["db/password"]')"
fi
if want age-cli-armored; then
  printf '%s' "$GOOD_DOC" | age -a -r "$RECIPIENT" -o "$DIR/age-cli-armored.age"
  age_refs age-cli-armored.age; finish age-cli-armored.age 'the same, ASCII-armored (age -a)' "$(ks_vault 0 '' 0 '["db/password"]')"
fi
if want two-recipients; then
  age-keygen -o "$WORK/other.txt" 2>/dev/null
  printf '%s' "$GOOD_DOC" | age -r "$(age-keygen -y "$WORK/other.txt")" -r "$RECIPIENT" -o "$DIR/two-recipients.age"
  age_refs two-recipients.age; finish two-recipients.age 'encrypted to a foreign recipient and to identity.txt' "$(ks_vault 0 '' 0 '["db/password"]')" \
    'keysmith reads it; a write re-encrypts to its own identity only (the file vault has one identity; the team backend is for several)'
fi
if want no-format; then
  doc '{"records":{"db/password":{"kind":"secret","value":"hand-written"}}}' no-format.age
  age_refs no-format.age; finish no-format.age 'a hand-written document with records only (no format, no version, no dates)' "$(ks_vault 0 '' 0 '["db/password"]')" \
    'accepted on purpose: src/vault/file.ts reads a hand-written document encrypted with age -r (format and version default)'
fi
if want truncated-payload; then
  keysmith_vault "$DIR/truncated-payload.age"; cut_to "$DIR/truncated-payload.age" -20
  age_refs truncated-payload.age; finish truncated-payload.age 'a keysmith vault with its last 20 bytes cut off' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want truncated-header; then
  keysmith_vault "$DIR/truncated-header.age"; cut_to "$DIR/truncated-header.age" 60
  age_refs truncated-header.age; finish truncated-header.age 'a keysmith vault cut inside its header (60 bytes)' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want tampered-header-mac; then
  keysmith_vault "$DIR/tampered-header-mac.age"
  o=$(offset "$DIR/tampered-header-mac.age" $'\n--- '); flip "$DIR/tampered-header-mac.age" $((o + 10))
  age_refs tampered-header-mac.age; finish tampered-header-mac.age 'a keysmith vault with one character of the header MAC changed' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want tampered-header-stanza; then
  keysmith_vault "$DIR/tampered-header-stanza.age"
  o=$(offset "$DIR/tampered-header-stanza.age" $'\n-> X25519 '); o=$(node -e 'const d=require("fs").readFileSync(process.argv[1]); console.log(d.indexOf(10, Number(process.argv[2])+1)+5)' -- "$DIR/tampered-header-stanza.age" "$o")
  flip "$DIR/tampered-header-stanza.age" "$o"
  age_refs tampered-header-stanza.age; finish tampered-header-stanza.age 'a keysmith vault with one character of the X25519 stanza body (the wrapped file key) changed' "$(ks_vault 4 ERR_VAULT_WRONG_IDENTITY 4)" \
    'the wrapped file key no longer unwraps with the identity, which age reports as "no identity matched any of the recipients" and keysmith as not encrypted to this identity (age spec: a stanza that fails to unwrap does not match)'
fi
if want tampered-payload; then
  keysmith_vault "$DIR/tampered-payload.age"; flip "$DIR/tampered-payload.age" -5
  age_refs tampered-payload.age; finish tampered-payload.age 'a keysmith vault with one byte of the encrypted payload changed' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want foreign-recipient; then
  age-keygen -o "$WORK/foreign.txt" 2>/dev/null
  printf '%s' "$GOOD_DOC" | age -r "$(age-keygen -y "$WORK/foreign.txt")" -o "$DIR/foreign-recipient.age"
  age_refs foreign-recipient.age; finish foreign-recipient.age 'a valid vault encrypted to another recipient only (its identity is not kept)' "$(ks_vault 4 ERR_VAULT_WRONG_IDENTITY 4)"
fi
if want passphrase; then
  (cd "$ROOT" && node --input-type=module -e '
    import { Encrypter } from "age-encryption"; import { writeFileSync } from "node:fs";
    const e = new Encrypter(); e.setPassphrase("fixture-passphrase"); e.setScryptWorkFactor(10);
    writeFileSync(process.argv[1], await e.encrypt(process.argv[2]));' "$DIR/passphrase.age" "$GOOD_DOC")
  age_refs passphrase.age; finish passphrase.age 'a valid vault encrypted with a passphrase (scrypt stanza), not to an identity' "$(ks_vault 4 ERR_VAULT_WRONG_IDENTITY 4)"
fi
if want wrong-version; then
  doc '{"format":"keysmith-vault","version":2,"records":{}}' wrong-version.age
  age_refs wrong-version.age; finish wrong-version.age 'a valid age file: a vault document of version 2' "$(ks_vault 1 ERR_VAULT_VERSION 1)"
fi
if want wrong-format; then
  doc '{"format":"other-tool","version":1,"records":{"x":{"kind":"secret","value":"v"}}}' wrong-format.age
  age_refs wrong-format.age; finish wrong-format.age 'a valid age file: JSON with records but format "other-tool"' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)" \
    'regression: keysmith once read (and on a write rewrote) any document with a records object, whatever its format'
fi
if want no-records; then
  doc '{"format":"keysmith-vault","version":1}' no-records.age
  age_refs no-records.age; finish no-records.age 'a valid age file: a vault document without records' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want records-array; then
  doc '{"format":"keysmith-vault","version":1,"records":[]}' records-array.age
  age_refs records-array.age; finish records-array.age 'a valid age file: records is an array' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want not-json; then
  doc 'DB_PASSWORD=hunter2' not-json.age
  age_refs not-json.age; finish not-json.age 'a valid age file whose plaintext is not JSON' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want bad-record; then
  doc '{"format":"keysmith-vault","version":1,"records":{"db/password":{"kind":"secret"}}}' bad-record.age
  age_refs bad-record.age; finish bad-record.age 'a valid vault document with a record that has no value' \
    '{"list":{"exit":1,"code":"ERR_VAULT_BAD_RECORD"},"set":{"exit":0}}' \
    'the document is sound, one record is not: list refuses it, a write of another record succeeds and keeps the bad record as it was'
fi
if want not-age; then
  printf 'DB_PASSWORD=hunter2\n' >"$DIR/not-age.age"
  age_refs not-age.age; finish not-age.age 'a plain text file, not age' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi
if want empty; then
  : >"$DIR/empty.age"
  age_refs empty.age; finish empty.age 'an empty vault.age' "$(ks_vault 1 ERR_VAULT_DAMAGED 1)"
fi

# ---------------------------------------------------------------------------------------------
# env files (keysmith exec --env-file). keysmith's documented behaviour (README "Scripting and CI",
# src/refs/env-file.ts) is the expectation; bash (`set -a; . F`) and Node's util.parseEnv (dotenv
# rules) are recorded beside it, and the case's note says where keysmith differs.
DIR=$FX/env; mkdir -p "$DIR"
env_refs() {
  ref bash -- sh -c 'env -i PATH="$PATH" bash --noprofile --norc -c '"'"'set -a; . "./$1"; rc=$?; node -e "const o={};for(const[k,v]of Object.entries(process.env))if(k.startsWith(\"FX_\"))o[k]=v;console.log(JSON.stringify(o))"; exit $rc'"'"' - "$1"' - "$1"
  ref node-parseEnv -- node -e 'const o=require("util").parseEnv(require("fs").readFileSync(process.argv[1],"utf8"));console.log(JSON.stringify(o))' "$1"
}
# env_case NAME CONTENT(printf format) ABOUT KEYSMITH [NOTE]
env_case() {
  if want "$1"; then
    printf "$2" >"$DIR/$1.env"
    env_refs "$1.env"; finish "$1.env" "$3" "$4" "${5:-}"
  fi
}
env_case basic 'FX_A=one\nFX_B=two words\n# a comment\n\nFX_REF=ks://fx/secret\n' 'plain values, a comment, a blank line, a ks:// reference' \
  '{"exit":0,"vars":{"FX_A":"one","FX_B":"two words","FX_REF":"resolved-secret-value"}}' \
  'bash splits "two words" into an assignment and a command (exit 127); keysmith takes the rest of the line as the value, as dotenv does'
env_case crlf 'FX_A=one\r\nFX_B="two"\r\n' 'CRLF line ends' '{"exit":0,"vars":{"FX_A":"one","FX_B":"two"}}' \
  'bash keeps the \r in the value; keysmith and dotenv drop the line end'
env_case bom '\xef\xbb\xbfFX_A=one\nFX_B=two\n' 'a UTF-8 byte order mark before the first line' '{"exit":0,"vars":{"FX_A":"one","FX_B":"two"}}' \
  'bash reads the BOM as part of the first word (not an assignment); keysmith skips it'
env_case export 'export FX_A=one\nexport   FX_B=two\nexport FX_EMPTY=\n' 'export prefixes, also with several spaces, and an empty value' \
  '{"exit":0,"vars":{"FX_A":"one","FX_B":"two","FX_EMPTY":""}}' \
  'Node util.parseEnv keeps the spaces after "export" in the name ("  FX_B"); keysmith skips them as bash does'
env_case empty-values 'FX_A=\nFX_B=""\nFX_C='"''"'\n' 'empty values: bare, double-quoted, single-quoted' '{"exit":0,"vars":{"FX_A":"","FX_B":"","FX_C":""}}'
env_case single-quotes "FX_A='literal \$HOME \\\\n \"x\"'\nFX_B='  spaced  '\n" 'single quotes: taken literally' \
  "$(node -e 'console.log(JSON.stringify({exit:0,vars:{FX_A:"literal $HOME \\n \"x\"",FX_B:"  spaced  "}}))')"
env_case double-quotes 'FX_A="a\\nb"\nFX_B="say \\"hi\\""\nFX_C="back\\\\slash"\nFX_D="tab\\tstays"\nFX_E="$HOME"\n' \
  'double quotes with \n, \", \\ escapes; \t and $ are not special' \
  "$(node -e 'console.log(JSON.stringify({exit:0,vars:{FX_A:"a\nb",FX_B:"say \"hi\"",FX_C:"back\\slash",FX_D:"tab\\tstays",FX_E:"$HOME"}}))')" \
  'keysmith expands \n in double quotes as dotenv does (bash keeps \n and expands $HOME); no variable expansion (README: values pass through)'
env_case inline-comment 'FX_A=value # comment\nFX_B="quoted" # comment\nFX_C=a#b\n' 'a # after a value' \
  "$(node -e 'console.log(JSON.stringify({exit:0,vars:{FX_A:"value # comment",FX_B:"\"quoted\" # comment",FX_C:"a#b"}}))')" \
  'keysmith has whole-line comments only (README: `#` comments): the rest of the line is the value, quotes included; bash and dotenv strip " # comment"'
env_case duplicate 'FX_A=first\nFX_A=second\n' 'the same name twice: the last wins' '{"exit":0,"vars":{"FX_A":"second"}}'
env_case spaces-around 'FX_A = spaced\n  FX_B=indented  \n' 'spaces around = and around the line' '{"exit":0,"vars":{"FX_A":"spaced","FX_B":"indented"}}' \
  'bash runs "FX_A" as a command; keysmith and dotenv trim'
env_case unterminated-quote 'FX_A="open\n' 'a double quote that is never closed' "$(node -e 'console.log(JSON.stringify({exit:0,vars:{FX_A:"\"open"}}))')" \
  'keysmith takes a value that does not end with the quote literally; bash fails (unexpected EOF)'
env_case invalid-name '1FX=x\n' 'a name that starts with a digit' '{"exit":2,"code":"ERR_ENV_FILE","message":":1: expected NAME=value"}'
env_case invalid-name-dash 'FX_A=ok\nFX-B=x\n' 'a name with a dash (line 2)' '{"exit":2,"code":"ERR_ENV_FILE","message":":2: expected NAME=value"}'
env_case no-equals 'FX_A\n' 'a line with no =' '{"exit":2,"code":"ERR_ENV_FILE","message":":1: expected NAME=value"}'
env_case export-tab 'export\tFX_A=x\n' 'export then a tab' '{"exit":2,"code":"ERR_ENV_FILE","message":":1: expected NAME=value"}' \
  'keysmith accepts "export " with a space only; bash accepts any blank'
env_case malformed-ref 'FX_REF=ks://has space\n' 'a ks:// value that is not a valid reference' '{"exit":2,"code":"ERR_REF_MALFORMED"}'
env_case missing-ref 'FX_REF=ks://fx/absent\n' 'a reference to a secret that does not exist' '{"exit":3,"code":"ERR_REF_NOT_FOUND"}'
env_case nul-byte 'FX_A=a\0b\n' 'a NUL byte inside a plain value' '{"exit":2,"code":"ERR_ENV_FILE"}' \
  'regression: keysmith once started the command and failed with exit 126 from spawn; README: a value the environment cannot carry (a NUL byte) is refused with exit 2 before the command starts'
env_case binary-value 'FX_A=\xff\xfe\n' 'bytes that are not UTF-8 in a plain value' \
  '{"exit":2,"note":"regression: exec once decoded the env file as UTF-8, so these bytes reached the command as U+FFFD U+FFFD (exit 0); README: a value the environment cannot carry exactly (not UTF-8 text) is refused with exit 2"}'

# ---------------------------------------------------------------------------------------------
# Templates (keysmith inject): the expected output bytes are written here by hand (CASE.out).
# Secrets come from the env backend: secrets.json maps names to values.
DIR=$FX/templates; mkdir -p "$DIR"
[[ -f $DIR/secrets.json ]] || printf '%s\n' '{"fx/a":"alpha-secret","fx/b":"beta {{ ks://fx/a }} $& $1","fx/multi":"line1\nline2"}' >"$DIR/secrets.json"
# tmpl_case NAME TEMPLATE(printf) EXPECTED-OUTPUT(printf or -) ABOUT KEYSMITH [NOTE]
tmpl_case() {
  if want "$1"; then
    printf "$2" >"$DIR/$1.tmpl"
    if [[ $3 != - ]]; then printf "$3" >"$DIR/$1.out"; fi
    finish "$1.tmpl" "$4" "$5" "${6:-}"
  fi
}
readonly T_OK='{"exit":0,"out":true}'
tmpl_case spaces 'a={{ ks://fx/a }}\nb={{ks://fx/a}}\nc={{   ks://fx/a\t}}\n' 'a=alpha-secret\nb=alpha-secret\nc=alpha-secret\n' 'placeholders with one space, none, and several blanks' "$T_OK"
tmpl_case no-placeholder 'plain text, no references: {{ not-a-ref }} { { ks://fx/a } }\n' 'plain text, no references: {{ not-a-ref }} { { ks://fx/a } }\n' 'no placeholder: copied unchanged, no vault opened' "$T_OK"
tmpl_case unterminated 'x={{ ks://fx/a\ny={{ ks://fx/a }\n' 'x={{ ks://fx/a\ny={{ ks://fx/a }\n' 'an unterminated {{ and a single closing brace: not placeholders, copied' "$T_OK"
tmpl_case nested-braces '{{{ ks://fx/a }}}\n{{ {{ ks://fx/a }} }}\n' '{alpha-secret}\n{{ alpha-secret }}\n' 'extra braces around a placeholder stay as they are' "$T_OK"
tmpl_case value-not-reexpanded 'b={{ ks://fx/b }}\n' 'b=beta {{ ks://fx/a }} $& $1\n' 'a value that looks like a placeholder or a replacement pattern is inserted as is, once' "$T_OK"
tmpl_case multiline-value 'm: |\n  {{ ks://fx/multi }}\n' 'm: |\n  line1\nline2\n' 'a multi-line value is inserted as is (no re-indenting)' "$T_OK"
tmpl_case repeated '{{ ks://fx/a }}{{ ks://fx/a }}-{{ks://fx/a}}\n' 'alpha-secretalpha-secret-alpha-secret\n' 'the same reference several times, adjacent' "$T_OK"
tmpl_case crlf 'a={{ ks://fx/a }}\r\nb=2\r\n' 'a=alpha-secret\r\nb=2\r\n' 'CRLF line ends are kept' "$T_OK"
tmpl_case binary '\x00\xff\xfe{{ ks://fx/a }}\x80\x00\n' '\x00\xff\xfealpha-secret\x80\x00\n' 'bytes that are not text around a placeholder are copied byte for byte' "$T_OK"
tmpl_case missing-ref 'x={{ ks://fx/absent }}\n' - 'a reference to a secret that does not exist' '{"exit":3,"code":"ERR_REF_NOT_FOUND"}'
tmpl_case missing-field 'x={{ ks://fx/a#user }}\n' - 'a field the record does not have' '{"exit":3,"code":"ERR_REF_NOT_FOUND"}'
tmpl_case malformed-ref 'x={{ ks://fx/a#f#g }}\n' - 'a reference with two #' '{"exit":2,"code":"ERR_REF_MALFORMED"}'
tmpl_case space-in-ref 'x={{ ks://fx a }}\n' 'x={{ ks://fx a }}\n' 'a space inside the reference: not a placeholder, copied' "$T_OK"

echo "make-fixtures: $ADDED case(s) added"
