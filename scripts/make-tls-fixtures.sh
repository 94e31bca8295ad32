#!/usr/bin/env bash
# Regenerates fixtures/tls/: TLS certificate chains that each break exactly one validation rule,
# plus valid twins, for the tests of keysmith's path validator (src/tls/validate.ts, issue 9).
#
#   bash scripts/make-tls-fixtures.sh          (from anywhere; rewrites <repo>/fixtures/tls/)
#   bash scripts/make-tls-fixtures.sh CASE...  (debugging: rewrites only those cases' folders)
#
# Needs only bash, coreutils and the openssl CLI (OpenSSL 3.0+). Each case is one folder:
#   chain.pem  leaf first, then intermediates (never the root), as a server sends it
#   root.pem   the one trust anchor to use
#   leaf.key   the leaf's private key (PEM, PKCS#8), to run a real TLS server with chain.pem
#   case.json  name, host, rule, what it breaks, and OpenSSL's recorded verdict
# Re-running changes only keys, key identifiers and signatures: names, serials, dates and
# extensions are fixed. All keys are throwaway test keys.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly OUT=fixtures/tls

command -v openssl >/dev/null || { echo "make-tls-fixtures: openssl not found" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keysmith-tls-fixtures.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Validity periods (openssl ca -startdate/-enddate; OpenSSL 3.0's x509 -req cannot set dates).
readonly GOOD_FROM=20250101000000Z GOOD_TO=20450101000000Z
readonly OLD_FROM=20200101000000Z OLD_TO=20210101000000Z
readonly FUTURE_FROM=20900101000000Z FUTURE_TO=20990101000000Z

# Default extensions, as openssl config lines "name = value". Later entries override earlier ones
# with the same name; an empty value drops the extension (see ext_lines).
readonly CA_EXT=(
  "basicConstraints=critical,CA:TRUE"
  "keyUsage=critical,keyCertSign,cRLSign"
  "extendedKeyUsage="
  "subjectAltName="
  "nameConstraints="
  "subjectKeyIdentifier=hash"
  "authorityKeyIdentifier=keyid:always"
)
readonly LEAF_EXT=(
  "basicConstraints=critical,CA:FALSE"
  "keyUsage=critical,digitalSignature"
  "extendedKeyUsage=serverAuth"
  "subjectAltName="
  "subjectKeyIdentifier=hash"
  "authorityKeyIdentifier=keyid:always"
)
# Sections that extension values may refer to (dirName name constraints).
readonly EXT_SECTIONS='
[dn_corp]
C = XX
O = Corp

[dn_bad]
C = XX
O = Bad

[dn_evil]
O = Evil
'

# ---------------------------------------------------------------------------------------------
# Small helpers

die() { echo "make-tls-fixtures: $*" >&2; exit 1; }

# Hex of a file, of a string, and a file from hex (no xxd needed).
hex_of() { od -An -v -tx1 "$1" | tr -d ' \n'; }
hex_str() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
unhex() { printf '%b' "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

# DER length octets (hex) for a length in bytes.
der_len() {
  local n=$1
  if ((n < 128)); then printf '%02x' "$n"
  elif ((n < 256)); then printf '81%02x' "$n"
  elif ((n < 65536)); then printf '82%04x' "$n"
  else die "der_len: $n too long"; fi
}

# Length in bytes of the DER element starting at hex offset $2 of hex string $1 (header included).
der_size() {
  local h=$1 at=$2 first n
  first=$((16#${h:at+2:2}))
  if ((first < 128)); then echo $((2 + first)); return; fi
  n=$((first - 128))
  echo $((2 + n + 16#${h:at+4:2*n}))
}

# Hex of a GeneralNames value holding one dNSName (for raw extensions).
der_general_names_dns() {
  local name_hex
  name_hex=$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n')
  local inner="82$(der_len $((${#name_hex} / 2)))$name_hex"
  printf '30%s%s' "$(der_len $((${#inner} / 2)))" "$inner"
}

json_str() {
  if [[ -z ${1+x} || $1 == - ]]; then printf 'null'; return; fi
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}
json_num() { if [[ $1 == - ]]; then printf 'null'; else printf '%s' "$1"; fi; }

is_ip() { [[ $1 == *:* || $1 =~ ^[0-9]+(\.[0-9]+){3}$ ]]; }

# ---------------------------------------------------------------------------------------------
# Certificates. Every certificate of a case lives in $CD as NAME.pem + NAME.key.

# ext_lines KEY=VALUE...: the extension section body. Later keys win; empty values drop the
# extension (subjectKeyIdentifier/authorityKeyIdentifier become "none", since OpenSSL 3 would
# otherwise add them by default). Order is that of first appearance, so output is stable.
ext_lines() {
  local -A val=()
  local -a order=()
  local kv k
  for kv in "$@"; do
    k=${kv%%=*}
    [[ -n ${val[$k]+x} ]] || order+=("$k")
    val[$k]=${kv#*=}
  done
  for k in "${order[@]}"; do
    if [[ -n ${val[$k]} ]]; then
      printf '%s = %s\n' "$k" "${val[$k]}"
    elif [[ $k == subjectKeyIdentifier || $k == authorityKeyIdentifier ]]; then
      printf '%s = none\n' "$k"
    fi
  done
}

# cert NAME ISSUER [@opt=VALUE | extName=VALUE]...
#   ISSUER    a certificate NAME of this case, or "self" for a self-signed certificate
#   @subject  subject DN in openssl -subj form ("/" for an empty subject)
#   @from/@to validity (YYYYMMDDHHMMSSZ); default GOOD_FROM/GOOD_TO
#   @key      ec (P-256, default), rsa (2048) or rsa1024 (weak, on purpose)
#   @md       the digest the issuer signs with: sha256 (default) or sha1 (weak, on purpose)
#   @sigopt   a signature option for the issuer's key (openssl ca -sigopt), e.g.
#             rsa_padding_mode:pss; repeat it for several
#   @v1       yes: no extensions at all, which makes `openssl ca` write a version 1 certificate
#   anything else is an extension line for the openssl config (see ext_lines)
cert() {
  local name=$1 issuer=$2
  shift 2
  local subject=/ from=$GOOD_FROM to=$GOOD_TO alg=ec v1=no md=sha256
  local -a ext=() sigopts=()
  local a
  for a in "$@"; do
    case $a in
      @subject=*) subject=${a#*=} ;;
      @from=*) from=${a#*=} ;;
      @to=*) to=${a#*=} ;;
      @key=*) alg=${a#*=} ;;
      @v1=*) v1=${a#*=} ;;
      @md=*) md=${a#*=} ;;
      @sigopt=*) sigopts+=(-sigopt "${a#*=}") ;;
      @*) die "cert: unknown option $a" ;;
      *) ext+=("$a") ;;
    esac
  done

  local key=$CD/$name.key
  if [[ ! -f $key ]]; then
    case $alg in
      ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$key" 2>/dev/null ;;
      rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$key" 2>/dev/null ;;
      rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$key" 2>/dev/null ;;
      *) die "cert: unknown key type $alg" ;;
    esac
  fi

  # A throwaway `openssl ca` directory per certificate: fresh database, fixed serial.
  local ca=$WORK/ca.$name
  rm -rf "$ca"
  mkdir -p "$ca/new"
  : >"$ca/index.txt"
  printf '%s\n' "$(printf '%s/%s' "$C" "$name" | openssl dgst -sha256 -r | cut -c1-16)" >"$ca/serial"
  cat >"$ca/ca.cnf" <<EOF
[ca]
default_ca = ca_default
[ca_default]
database = $ca/index.txt
new_certs_dir = $ca/new
serial = $ca/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = yes
copy_extensions = none
[policy_any]
commonName = optional
EOF
  {
    echo "[ext]"
    ext_lines "${ext[@]}"
    echo "$EXT_SECTIONS"
  } >"$ca/ext.cnf"

  openssl req -new -key "$key" -subj "$subject" -out "$ca/req.csr" 2>/dev/null \
    || die "$C/$name: openssl req failed"
  local -a args=(ca -batch -config "$ca/ca.cnf" -in "$ca/req.csr" -out "$ca/cert.pem" -notext
    -preserveDN -utf8 -md "$md" "${sigopts[@]}" -startdate "$from" -enddate "$to")
  if [[ $issuer == self ]]; then
    args+=(-selfsign -keyfile "$key")
  else
    args+=(-cert "$CD/$issuer.pem" -keyfile "$CD/$issuer.key")
  fi
  [[ $v1 == yes ]] || args+=(-extfile "$ca/ext.cnf" -extensions ext)
  openssl "${args[@]}" >"$ca/log" 2>&1 || { cat "$ca/log" >&2; die "$C/$name: openssl ca failed"; }
  openssl x509 -in "$ca/cert.pem" -out "$CD/$name.pem"
  rm -rf "$ca"
}

# root NAME [overrides...]: a self-signed root CA (no AKID, as most roots).
root() {
  local name=$1
  shift
  cert "$name" self "@subject=/O=Keysmith Test/CN=$C $name" "${CA_EXT[@]}" "authorityKeyIdentifier=" "$@"
}

# ca NAME ISSUER [overrides...]: an intermediate CA.
ca() {
  local name=$1 issuer=$2
  shift 2
  cert "$name" "$issuer" "@subject=/O=Keysmith Test/CN=$C $name" "${CA_EXT[@]}" "$@"
}

# leaf NAME ISSUER SAN [overrides...]: a TLS server certificate; CN = the first SAN value.
leaf() {
  local name=$1 issuer=$2 san=$3
  shift 3
  local first=${san%%,*}
  cert "$name" "$issuer" "@subject=/CN=${first#*:}" "${LEAF_EXT[@]}" "subjectAltName=$san" "$@"
}

# reissue NAME ISSUER [cert options...]: issue NAME again, same key, name and serial, with other
# extensions. For a CA without a subjectKeyIdentifier (v1, or one left out): its children were
# issued while it had one, so they still carry an authorityKeyIdentifier keyid (= SHA-1 of the
# key, as RFC 5280 §4.2.1.2 method 1), which RFC 5280 §4.2.1.1 requires of them.
reissue() {
  [[ -f $CD/$1.key ]] || die "reissue: $1 has no key yet"
  cert "$@"
}

# The subjectKeyIdentifier of a certificate, as openssl config hex (AB:CD:...).
skid() {
  openssl x509 -in "$CD/$1.pem" -noout -ext subjectKeyIdentifier | sed -n '2{s/^ *//;p}'
}

# resign_patched NAME ISSUER FROM_HEX TO_HEX: replace one byte string of NAME's to-be-signed
# certificate by another, and sign it again with ISSUER's key. For certificates that `openssl ca`
# will not write (it replaces a repeated extension instead of repeating it). Only the TBS's own
# length is recomputed: a replacement of another length must be a whole element that sits directly
# in the TBS (a Name, say), or the caller must fix the enclosing lengths within FROM/TO.
resign_patched() {
  local name=$1 issuer=$2 from=$3 to=$4
  local der=$WORK/patch.der h tbs_at tbs_len tbs tbs_hdr content rest alg sig_hex body
  openssl x509 -in "$CD/$name.pem" -outform DER -out "$der"
  h=$(hex_of "$der")
  # Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }: the TBS
  # starts right after the outer header (2 octets, plus n when the length is long-form).
  local first=$((16#${h:2:2}))
  if ((first < 128)); then tbs_at=4; else tbs_at=$((4 + 2 * (first - 128))); fi
  tbs_len=$(($(der_size "$h" "$tbs_at") * 2))
  tbs=${h:tbs_at:tbs_len}
  rest=${h:tbs_at+tbs_len}
  alg=${rest:0:$(($(der_size "$rest" 0) * 2))}
  # The TBS header: tag, then 1 length octet, or 0x8n and n more.
  first=$((16#${tbs:2:2}))
  if ((first < 128)); then tbs_hdr=4; else tbs_hdr=$((4 + 2 * (first - 128))); fi
  content=${tbs:tbs_hdr}
  [[ $content == *"$from"* ]] || die "$C/$name: patch: $from not found"
  [[ ${content#*"$from"} != *"$from"* ]] || die "$C/$name: patch: $from not unique"
  content=${content/"$from"/"$to"}
  # Same length: the same header again (openssl writes minimal DER lengths, as der_len does).
  tbs="30$(der_len $((${#content} / 2)))$content"
  unhex "$tbs" >"$WORK/tbs.der"
  openssl dgst -sha256 -sign "$CD/$issuer.key" -out "$WORK/sig.bin" "$WORK/tbs.der"
  sig_hex="00$(hex_of "$WORK/sig.bin")"
  body="$tbs${alg}03$(der_len $((${#sig_hex} / 2)))$sig_hex"
  unhex "30$(der_len $((${#body} / 2)))$body" >"$der"
  openssl x509 -inform DER -in "$der" -out "$CD/$name.pem"
  rm -f "$der" "$WORK/tbs.der" "$WORK/sig.bin"
}

# ---------------------------------------------------------------------------------------------
# Cases: describe, build, emit.

CASE_ROWS=()
DIFF_ROWS=()

# describe HOST RULE CERT BREAKS [CITE]: what the case is about (RULE/CERT "-" for a valid chain).
describe() {
  HOST=$1 RULE=$2 CERT=$3 BREAKS=$4 CITE=${5:--}
}

# emit LEAF [INTERMEDIATE...] ROOT: write the case folder and record OpenSSL's verdict.
# Intermediates are given leaf-side first, as a server sends them.
emit() {
  local dir=$STAGE/$C
  mkdir -p "$dir"
  local -a certs=("$@")
  local leaf=${certs[0]} root=${certs[-1]}
  local -a mids=("${certs[@]:1:${#certs[@]}-2}")
  local m
  {
    cat "$CD/$leaf.pem"
    for m in "${mids[@]}"; do cat "$CD/$m.pem"; done
  } >"$dir/chain.pem"
  cp "$CD/$root.pem" "$dir/root.pem"
  cp "$CD/$leaf.key" "$dir/leaf.key"

  # OpenSSL's verdict on exactly the files written: the leaf is chain.pem's first certificate.
  local v=$WORK/verify
  rm -rf "$v"
  mkdir -p "$v"
  cp "$CD/$leaf.pem" "$v/leaf.pem"
  cp "$dir/root.pem" "$v/root.pem"
  # -policy_check -policy anyPolicy: RFC 5280 §6.1.1's default inputs (without them OpenSSL skips policy processing).
  local -a args=(verify -x509_strict -purpose sslserver -policy_check -policy anyPolicy -CAfile root.pem)
  if ((${#mids[@]})); then
    for m in "${mids[@]}"; do cat "$CD/$m.pem"; done >"$v/untrusted.pem"
    args+=(-untrusted untrusted.pem)
  fi
  if is_ip "$HOST"; then args+=(-verify_ip "$HOST"); else args+=(-verify_hostname "$HOST"); fi
  local out
  out=$(cd "$v" && openssl "${args[@]}" leaf.pem 2>&1) || true
  rm -rf "$v"

  local ok=false first_err=- first_depth=- errors="" line re='error ([0-9]+) at ([0-9]+) depth lookup: (.*)$'
  while IFS= read -r line; do
    if [[ $line =~ $re ]]; then
      [[ $first_err != - ]] || { first_err=${BASH_REMATCH[3]}; first_depth=${BASH_REMATCH[2]}; }
      errors+="${errors:+, }{ \"code\": ${BASH_REMATCH[1]}, \"depth\": ${BASH_REMATCH[2]}, \"error\": $(json_str "${BASH_REMATCH[3]}") }"
    fi
  done <<<"$out"
  if [[ $out == *"leaf.pem: OK"* && $first_err == - ]]; then
    ok=true
  elif [[ $first_err == - ]]; then
    die "$C: cannot parse openssl verify output: $out"
  fi

  cat >"$dir/case.json" <<EOF
{
  "name": $(json_str "$C"),
  "host": $(json_str "$HOST"),
  "rule": $(json_str "$RULE"),
  "breaks": $(json_str "$BREAKS"),
  "certificate": $(json_num "$CERT"),
  "openssl": {
    "ok": $ok,
    "error": $(json_str "$first_err"),
    "depth": $(json_num "$first_depth"),
    "errors": [${errors}]
  },
  "cite": $(json_str "$CITE")
}
EOF

  local verdict=OK
  [[ $ok == true ]] || verdict="error at depth $first_depth: $first_err"
  CASE_ROWS+=("| \`$C\` | \`$HOST\` | ${RULE/#-/—} | ${BREAKS//\*/\\*} | ${verdict} |")
  if [[ $CITE != - ]]; then
    DIFF_ROWS+=("- \`$C\` (${RULE/#-/valid}; OpenSSL: ${verdict}): ${CITE//\*/\\*}")
  fi
  # Flag verdicts that need a cited reason (keysmith stricter) or are surprising (OpenSSL stricter).
  if [[ $RULE != - && $ok == true && $CITE == - ]]; then
    echo "make-tls-fixtures: warning: $C: OpenSSL accepts a chain keysmith rejects, and no rule is cited" >&2
  fi
  if [[ $RULE == - && $ok == false ]]; then
    echo "make-tls-fixtures: note: $C: valid for keysmith, OpenSSL says: $first_err" >&2
  fi
}

# The usual shapes.
chain2() { # chain2 SAN [leaf overrides...]: root → leaf
  root root
  leaf leaf root "$@"
  emit leaf root
}
chain3() { # chain3 SAN [leaf overrides...]: root → int → leaf
  root root
  ca int root
  leaf leaf int "$@"
  emit leaf int root
}

# ------------------------------------------------------------------ valid chains and their twins

case_good-2() {
  describe api.corp.test - - "nothing: root → leaf"
  chain2 DNS:api.corp.test
}
case_good-3() {
  describe api.corp.test - - "nothing: root → intermediate → leaf"
  chain3 DNS:api.corp.test
}
case_good-4() {
  describe api.corp.test - - "nothing: root → intermediate → intermediate → leaf"
  root root
  ca int1 root
  ca int2 int1
  leaf leaf int2 DNS:api.corp.test
  emit leaf int2 int1 root
}
case_good-rsa() {
  describe api.corp.test - - "nothing: root → intermediate → leaf, all RSA-2048"
  root root @key=rsa
  ca int root @key=rsa
  leaf leaf int DNS:api.corp.test @key=rsa "keyUsage=critical,digitalSignature,keyEncipherment"
  emit leaf int root
}
case_weak-key-leaf() {
  describe api.corp.test WEAK_KEY 0 "WEAK_KEY: the leaf (0) has an RSA key of 1024 bits" \
    "CA/B BR §6.1.5 (RSA keys of at least 2048 bits), as browsers enforce; openssl verify at its default auth level, and Node's handshake at security level 1, accept 1024 bits"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test @key=rsa1024 "keyUsage=critical,digitalSignature,keyEncipherment"
  emit leaf int root
}
case_weak-signature-leaf() {
  describe api.corp.test WEAK_SIGNATURE 0 "WEAK_SIGNATURE: the intermediate signed the leaf (0) with SHA-1" \
    "CA/B BR §7.1.3.2 (no SHA-1 signatures on subscriber certificates), as browsers enforce since 2017; openssl verify at its default auth level accepts SHA-1"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test @md=sha1
  emit leaf int root
}
case_weak-signature-pss-sha1() {
  describe api.corp.test WEAK_SIGNATURE 0 "WEAK_SIGNATURE: the intermediate (RSA) signed the leaf (0) with RSASSA-PSS over SHA-1 (salt 20)" \
    "CA/B BR §7.1.3.2.1 (RSASSA-PSS only with SHA-256, SHA-384 or SHA-512) and §7.1.3.2 (no SHA-1 on subscriber certificates): SHA-1 is weak under PSS padding too; openssl verify at its default auth level accepts it"
  root root @key=rsa
  ca int root @key=rsa
  leaf leaf int DNS:api.corp.test @md=sha1 @sigopt=rsa_padding_mode:pss @sigopt=rsa_pss_saltlen:20
  emit leaf int root
}
case_good-sha1-root() {
  describe api.corp.test - - "nothing: the root signed itself with SHA-1, which nobody checks (a trust anchor is its name and key)"
  root root @md=sha1
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_policy-explicit-required() {
  describe api.corp.test POLICY 0 "POLICY: the intermediate (1) requires an explicit policy (requireExplicitPolicy 0), and the leaf (0) asserts none (RFC 5280 §6.1.3 (d), §6.1.5)"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "certificatePolicies=1.3.6.1.4.1.99999.7"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_policy-explicit-ok() {
  describe api.corp.test - - "nothing: the intermediate (1) requires an explicit policy, and it and the leaf assert the same one"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "certificatePolicies=1.3.6.1.4.1.99999.7"
  leaf leaf int DNS:api.corp.test "certificatePolicies=1.3.6.1.4.1.99999.7"
  emit leaf int root
}
case_policy-disjoint() {
  describe api.corp.test POLICY 0 "POLICY: an explicit policy is required; the intermediate (1) asserts one policy, the leaf (0) another, so none is valid for the path"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "certificatePolicies=1.3.6.1.4.1.99999.7"
  leaf leaf int DNS:api.corp.test "certificatePolicies=1.3.6.1.4.1.99999.8"
  emit leaf int root
}
case_policy-inhibit-any() {
  describe api.corp.test POLICY 0 "POLICY: the intermediate (1) requires an explicit policy and inhibits anyPolicy (inhibitAnyPolicy 0); the leaf (0) asserts only anyPolicy (RFC 5280 §6.1.3 (d)(2))"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "inhibitAnyPolicy=critical,0" "certificatePolicies=2.5.29.32.0"
  leaf leaf int DNS:api.corp.test "certificatePolicies=2.5.29.32.0"
  emit leaf int root
}
case_policy-any-ok() {
  describe api.corp.test - - "nothing: an explicit policy is required; the intermediate (1) asserts anyPolicy and the leaf a policy of its own, which anyPolicy covers"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "certificatePolicies=2.5.29.32.0"
  leaf leaf int DNS:api.corp.test "certificatePolicies=1.3.6.1.4.1.99999.7"
  emit leaf int root
}
case_policy-empty-constraints() {
  describe api.corp.test POLICY 1 "POLICY: the intermediate (1) has a critical policyConstraints that is an empty SEQUENCE (RFC 5280 §4.2.1.11: CAs MUST NOT issue it); it and the leaf assert the same policy"
  root root
  ca int root "2.5.29.36=critical,DER:3000" "certificatePolicies=1.3.6.1.4.1.99999.7"
  leaf leaf int DNS:api.corp.test "certificatePolicies=1.3.6.1.4.1.99999.7"
  emit leaf int root
}
# Raw policy extensions (hex from `openssl asn1parse -genconf`). certificatePolicies: SEQUENCE {
# PolicyInformation { 1.3.6.1.4.1.99999.7, qualifiers { { id-qt-cps, INTEGER 5 } } } }, where
# RFC 5280 §4.2.1.4 makes a CPS pointer an IA5String. policyMappings: SEQUENCE { { issuerDomainPolicy
# anyPolicy (2.5.29.32.0), subjectDomainPolicy 1.3.6.1.4.1.99999.7 } }, which §4.2.1.5 forbids.
readonly CP_CPS_INTEGER=301e301c06092b06010401868d1f07300f300d06082b06010505070201020105
readonly PM_FROM_ANY=301330110604551d200006092b06010401868d1f07
case_policy-cps-not-ia5() {
  describe api.corp.test POLICY 1 "POLICY: an explicit policy is required; the intermediate (1) asserts 1.3.6.1.4.1.99999.7 with a CPS qualifier whose value is an INTEGER, not the IA5String of RFC 5280 §4.2.1.4; the leaf asserts the same policy"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "2.5.29.32=DER:$CP_CPS_INTEGER"
  leaf leaf int DNS:api.corp.test "certificatePolicies=1.3.6.1.4.1.99999.7"
  emit leaf int root
}
case_policy-mapping-any() {
  describe api.corp.test POLICY 1 "POLICY: an explicit policy is required; the intermediate (1) maps anyPolicy to 1.3.6.1.4.1.99999.7 (policyMappings never map to or from anyPolicy: RFC 5280 §4.2.1.5, §6.1.4 (a)); it and the leaf assert 1.3.6.1.4.1.99999.7"
  root root
  ca int root "policyConstraints=critical,requireExplicitPolicy:0" "certificatePolicies=1.3.6.1.4.1.99999.7" \
    "2.5.29.33=critical,DER:$PM_FROM_ANY"
  leaf leaf int DNS:api.corp.test "certificatePolicies=1.3.6.1.4.1.99999.7"
  emit leaf int root
}
case_good-ip() {
  describe 127.0.0.1 - - "nothing: leaf with IP SAN 127.0.0.1"
  chain3 IP:127.0.0.1
}
case_good-ipv6() {
  describe ::1 - - "nothing: leaf with IP SAN ::1"
  chain3 IP:::1
}
case_good-wildcard() {
  describe a.corp.test - - "nothing: leaf SAN *.corp.test matched by a.corp.test"
  chain3 'DNS:*.corp.test'
}
case_good-hostname-case() {
  describe api.corp.test - - "nothing: leaf SAN API.Corp.Test matches api.corp.test (DNS names compare case-insensitively)"
  chain3 DNS:API.Corp.Test
}
case_good-empty-subject() {
  describe api.corp.test - - "nothing: leaf with an empty subject and a critical SAN (RFC 5280 §4.2.1.6)"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test @subject=/ "subjectAltName=critical,DNS:api.corp.test"
  emit leaf int root
}
case_good-pathlen() {
  describe api.corp.test - - "nothing: root pathLenConstraint 1 → intermediate → leaf"
  root root "basicConstraints=critical,CA:TRUE,pathlen:1"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_good-pathlen-0() {
  describe api.corp.test - - "nothing: intermediate pathLenConstraint 0 directly above the leaf"
  root root
  ca int root "basicConstraints=critical,CA:TRUE,pathlen:0"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_good-no-eku() {
  describe api.corp.test - - "nothing: leaf without extendedKeyUsage (any purpose)"
  chain3 DNS:api.corp.test "extendedKeyUsage="
}
case_good-intermediate-eku() {
  describe api.corp.test - - "nothing: intermediate with extendedKeyUsage serverAuth"
  root root
  ca int root "extendedKeyUsage=serverAuth"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}

# ------------------------------------------------------------------------------- path length

case_pathlen-violated() {
  describe api.corp.test PATH_LENGTH 2 "PATH_LENGTH: the root (2) has pathLenConstraint 0 but an intermediate follows it"
  root root "basicConstraints=critical,CA:TRUE,pathlen:0"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_pathlen-violated-4() {
  describe api.corp.test PATH_LENGTH 2 "PATH_LENGTH: the first intermediate from the root (2) has pathLenConstraint 0 but another intermediate (1) follows it"
  root root
  ca int1 root "basicConstraints=critical,CA:TRUE,pathlen:0"
  ca int2 int1
  leaf leaf int2 DNS:api.corp.test
  emit leaf int2 int1 root
}

# ------------------------------------------------------------------------------ name chaining

case_names-numeric-pathlen() {
  describe api.corp.test PATH_LENGTH 2 "PATH_LENGTH: the first intermediate from the root (2) has pathLenConstraint 0 and subject CN=123 as a PrintableString; the next intermediate (1) has subject CN=123 as a NumericString, a name that does not match its issuer's (RFC 5280 §7.1 requires matching across encodings only for PrintableString and UTF8String), so it is not self-issued and counts"
  # `openssl ca` writes UTF8Strings: patch the tag of "123" in each subject (0c → 13 PrintableString,
  # 0c → 12 NumericString) before issuing the child, which then copies the name as its issuer.
  local utf8_123=0c03$(hex_str 123)
  root root
  ca i0 root @subject=/CN=123 "basicConstraints=critical,CA:TRUE,pathlen:0"
  resign_patched i0 root "$utf8_123" "13${utf8_123:2}"
  ca i1 i0 @subject=/CN=123
  resign_patched i1 i0 "$utf8_123" "12${utf8_123:2}"
  leaf leaf i1 DNS:api.corp.test
  emit leaf i1 i0 root
}
case_names-case-spacing() {
  describe api.corp.test - - "nothing: the leaf's issuer name (O=keysmith test, CN=corp issuing  ca) differs from the intermediate's subject (O=Keysmith Test, CN=Corp  Issuing CA) only in case and inner spaces, which RFC 5280 §7.1 (RFC 4518 caseIgnoreMatch, insignificant space handling) ignores"
  root root
  ca int root "@subject=/O=Keysmith Test/CN=Corp  Issuing CA"
  leaf leaf int DNS:api.corp.test
  # Same lengths, so the leaf's to-be-signed bytes can be patched in place and signed again.
  resign_patched leaf int "$(hex_str 'Keysmith Test')" "$(hex_str 'keysmith test')"
  resign_patched leaf int "$(hex_str 'Corp  Issuing CA')" "$(hex_str 'corp issuing  ca')"
  emit leaf int root
}

# ---------------------------------------------------------------------------- name constraints

case_nc-dns-permitted() {
  describe evil.example NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the root permits DNS corp.test only; the leaf (0) is for evil.example"
  root root "nameConstraints=critical,permitted;DNS:corp.test"
  ca int root
  leaf leaf int DNS:evil.example
  emit leaf int root
}
case_nc-dns-permitted-ok() {
  describe api.corp.test - - "nothing: the root permits DNS corp.test; the leaf is for api.corp.test"
  root root "nameConstraints=critical,permitted;DNS:corp.test"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_nc-dns-permitted-apex() {
  describe corp.test - - "nothing: the root permits DNS corp.test; the leaf is for corp.test itself"
  root root "nameConstraints=critical,permitted;DNS:corp.test"
  ca int root
  leaf leaf int DNS:corp.test
  emit leaf int root
}
case_nc-dns-label-boundary() {
  describe evilcorp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the root permits DNS corp.test; the leaf (0) is for evilcorp.test, which only ends with the same characters"
  root root "nameConstraints=critical,permitted;DNS:corp.test"
  ca int root
  leaf leaf int DNS:evilcorp.test
  emit leaf int root
}
case_nc-dns-excluded() {
  describe bad.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes DNS bad.corp.test; the leaf (0) is for bad.corp.test"
  root root
  ca int root "nameConstraints=critical,excluded;DNS:bad.corp.test"
  leaf leaf int DNS:bad.corp.test
  emit leaf int root
}
case_nc-dns-excluded-ok() {
  describe good.corp.test - - "nothing: the intermediate excludes DNS bad.corp.test; the leaf is for good.corp.test"
  root root
  ca int root "nameConstraints=critical,excluded;DNS:bad.corp.test"
  leaf leaf int DNS:good.corp.test
  emit leaf int root
}
case_nc-dns-excluded-subdomain() {
  describe x.bad.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes DNS bad.corp.test; the leaf (0) is for its subdomain x.bad.corp.test"
  root root
  ca int root "nameConstraints=critical,excluded;DNS:bad.corp.test"
  leaf leaf int DNS:x.bad.corp.test
  emit leaf int root
}
case_nc-dns-excluded-wildcard() {
  describe bad.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes DNS bad.corp.test; the leaf (0) SAN *.corp.test would match bad.corp.test" \
    "RFC 5280 §4.2.1.10 says nothing of wildcards; a wildcard dNSName that can stand for an excluded name is excluded, as Chromium/BoringSSL's verifier does (name_constraints.cc, WILDCARD_PARTIAL_MATCH); OpenSSL compares the literal *.corp.test only"
  root root
  ca int root "nameConstraints=critical,excluded;DNS:bad.corp.test"
  leaf leaf int 'DNS:*.corp.test'
  emit leaf int root
}
case_nc-ip-permitted() {
  describe 192.168.1.1 NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the root permits IP 10.0.0.0/8 only; the leaf (0) has IP SAN 192.168.1.1"
  root root "nameConstraints=critical,permitted;IP:10.0.0.0/255.0.0.0"
  ca int root
  leaf leaf int IP:192.168.1.1
  emit leaf int root
}
case_nc-ip-permitted-ok() {
  describe 10.1.2.3 - - "nothing: the root permits IP 10.0.0.0/8; the leaf has IP SAN 10.1.2.3"
  root root "nameConstraints=critical,permitted;IP:10.0.0.0/255.0.0.0"
  ca int root
  leaf leaf int IP:10.1.2.3
  emit leaf int root
}
case_nc-ip-excluded() {
  describe 192.168.1.1 NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes IP 192.168.0.0/16; the leaf (0) has IP SAN 192.168.1.1"
  root root
  ca int root "nameConstraints=critical,excluded;IP:192.168.0.0/255.255.0.0"
  leaf leaf int IP:192.168.1.1
  emit leaf int root
}
case_nc-ip-excluded-ok() {
  describe 10.1.2.3 - - "nothing: the intermediate excludes IP 192.168.0.0/16; the leaf has IP SAN 10.1.2.3"
  root root
  ca int root "nameConstraints=critical,excluded;IP:192.168.0.0/255.255.0.0"
  leaf leaf int IP:10.1.2.3
  emit leaf int root
}
case_nc-dn-permitted() {
  describe api.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate permits directory names under C=XX, O=Corp; the leaf (0) subject is C=XX, O=Other"
  root root
  ca int root "nameConstraints=critical,permitted;dirName:dn_corp"
  leaf leaf int DNS:api.corp.test "@subject=/C=XX/O=Other/CN=api.corp.test"
  emit leaf int root
}
case_nc-dn-permitted-ok() {
  describe api.corp.test - - "nothing: the intermediate permits directory names under C=XX, O=Corp; the leaf subject is C=XX, O=Corp, CN=api.corp.test"
  root root
  ca int root "nameConstraints=critical,permitted;dirName:dn_corp"
  leaf leaf int DNS:api.corp.test "@subject=/C=XX/O=Corp/CN=api.corp.test"
  emit leaf int root
}
case_nc-dn-excluded() {
  describe api.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the root excludes directory names under C=XX, O=Bad; the leaf (0) subject is C=XX, O=Bad, CN=api.corp.test"
  root root "nameConstraints=critical,excluded;dirName:dn_bad"
  ca int root
  leaf leaf int DNS:api.corp.test "@subject=/C=XX/O=Bad/CN=api.corp.test"
  emit leaf int root
}
case_nc-dn-excluded-empty-rdn() {
  describe api.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes directory names under O=Evil; the leaf (0) subject is an empty RDN, then O=Evil, CN=leaf, which is under O=Evil once the empty RDN is dropped (as OpenSSL's canonical form drops it)"
  root root
  ca int root "nameConstraints=critical,excluded;dirName:dn_evil"
  leaf leaf int DNS:api.corp.test "@subject=/O=Evil/CN=leaf"
  # `openssl req` writes no empty RDN: put SET {} first in the subject (two octets longer) and sign
  # again. Name { {O=Evil} {CN=leaf} } → Name { {} {O=Evil} {CN=leaf} }, UTF8Strings as openssl writes.
  local o_evil=310d300b060355040a0c04$(hex_str Evil) cn_leaf=310d300b06035504030c04$(hex_str leaf)
  resign_patched leaf int "301e$o_evil$cn_leaf" "30203100$o_evil$cn_leaf"
  emit leaf int root
}
case_nc-email() {
  describe api.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate permits DNS and email corp.test; the leaf (0) has SAN email a@evil.example beside DNS api.corp.test"
  root root
  ca int root "nameConstraints=critical,permitted;DNS:corp.test,permitted;email:corp.test"
  leaf leaf int DNS:api.corp.test,email:a@evil.example
  emit leaf int root
}
case_nc-email-ok() {
  describe api.corp.test - - "nothing: the intermediate permits DNS and email corp.test; the leaf has SAN email a@corp.test beside DNS api.corp.test"
  root root
  ca int root "nameConstraints=critical,permitted;DNS:corp.test,permitted;email:corp.test"
  leaf leaf int DNS:api.corp.test,email:a@corp.test
  emit leaf int root
}
case_nc-cn() {
  describe api.corp.test - - "nothing: the root permits DNS corp.test; the leaf has SAN api.corp.test and subject CN=evil.example, a CN no client reads since there is a DNS SAN (RFC 6125 §6.4.4), so it is not name-checked (as OpenSSL)"
  root root "nameConstraints=critical,permitted;DNS:corp.test"
  ca int root
  leaf leaf int DNS:api.corp.test "@subject=/CN=evil.example"
  emit leaf int root
}
case_nc-cn-ip-san() {
  describe 127.0.0.1 NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the root permits DNS corp.test; the leaf (0) has only an IP SAN and subject CN=evil.example"
  root root "nameConstraints=critical,permitted;DNS:corp.test"
  ca int root
  leaf leaf int IP:127.0.0.1 "@subject=/CN=evil.example"
  emit leaf int root
}
case_nc-email-excluded-domain() {
  describe api.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes email @evil.test (every mailbox at that host); the leaf (0) has SAN email a@evil.test beside DNS api.corp.test"
  root root
  ca int root "nameConstraints=critical,excluded;email:@evil.test"
  leaf leaf int DNS:api.corp.test,email:a@evil.test
  emit leaf int root
}
case_nc-uri-excluded-query() {
  describe api.corp.test NAME_CONSTRAINTS 0 "NAME_CONSTRAINTS: the intermediate excludes URI hosts under .evil.test; the leaf (0) has SAN URI https://good.test?.evil.test beside DNS api.corp.test, whose host OpenSSL takes up to the first ':' or '/' (good.test?.evil.test, excluded)"
  root root
  ca int root "nameConstraints=critical,excluded;URI:.evil.test"
  leaf leaf int "DNS:api.corp.test,URI:https://good.test?.evil.test"
  emit leaf int root
}

# Raw subjectAltName values (GeneralNames) whose names are encoded constructed, which BER allows
# and DER forbids: [2] dNSName "evil" + ".test", [7] iPAddress 7f00 + 0001 (127.0.0.1).
readonly SAN_CONSTRUCTED_DNS=300fa20d16046576696c16052e74657374
readonly SAN_CONSTRUCTED_IP=300aa70804027f0004020001
readonly CITE_CONSTRUCTED="X.690 §10.2 (DER: string types, and implicitly tagged ones such as GeneralName's dNSName and iPAddress, use the primitive encoding only) and RFC 5280 §4.1 (certificates are DER)"
case_nc-constructed-dns() {
  describe evil.test MALFORMED 0 "MALFORMED: the leaf (0) has SAN dNSName evil.test encoded constructed (IA5String pieces \"evil\", \".test\"); the intermediate excludes DNS evil.test" \
    "$CITE_CONSTRUCTED: a constructed dNSName is malformed, whatever its pieces join to"
  root root
  ca int root "nameConstraints=critical,excluded;DNS:evil.test"
  cert leaf int @subject=/CN=leaf "${LEAF_EXT[@]}" "2.5.29.17=DER:$SAN_CONSTRUCTED_DNS"
  emit leaf int root
}
case_nc-constructed-ip() {
  describe 127.0.0.1 MALFORMED 0 "MALFORMED: the leaf (0) has SAN iPAddress 127.0.0.1 encoded constructed (OCTET STRING pieces 7f00, 0001); the intermediate excludes IP 127.0.0.0/8" \
    "$CITE_CONSTRUCTED: a constructed iPAddress is malformed, whatever its pieces join to"
  root root
  ca int root "nameConstraints=critical,excluded;IP:127.0.0.0/255.0.0.0"
  cert leaf int @subject=/CN=leaf "${LEAF_EXT[@]}" "2.5.29.17=DER:$SAN_CONSTRUCTED_IP"
  emit leaf int root
}

# -------------------------------------------------------------------------- extended key usage

case_eku-client-only() {
  describe api.corp.test EXTENDED_KEY_USAGE 0 "EXTENDED_KEY_USAGE: the leaf (0) has extendedKeyUsage clientAuth only"
  chain3 DNS:api.corp.test "extendedKeyUsage=clientAuth"
}
case_eku-intermediate() {
  describe api.corp.test EXTENDED_KEY_USAGE 1 "EXTENDED_KEY_USAGE: the intermediate (1) has extendedKeyUsage clientAuth only"
  root root
  ca int root "extendedKeyUsage=clientAuth"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_eku-any() {
  describe api.corp.test EXTENDED_KEY_USAGE 0 "EXTENDED_KEY_USAGE: the leaf (0) has extendedKeyUsage anyExtendedKeyUsage only, no serverAuth"
  chain3 DNS:api.corp.test "extendedKeyUsage=anyExtendedKeyUsage"
}
case_root-eku-clientauth() {
  describe api.corp.test EXTENDED_KEY_USAGE 2 "EXTENDED_KEY_USAGE: the root (2) has extendedKeyUsage clientAuth only; a trust anchor without trust settings of its own (a plain PEM root) is held to its extendedKeyUsage, as OpenSSL 3.0 does"
  root root "extendedKeyUsage=clientAuth"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_root-eku-any() {
  describe api.corp.test EXTENDED_KEY_USAGE 2 "EXTENDED_KEY_USAGE: the root (2) has extendedKeyUsage anyExtendedKeyUsage only, no serverAuth (as eku-any, on the trust anchor)"
  root root "extendedKeyUsage=anyExtendedKeyUsage"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_nscerttype-client() {
  describe api.corp.test EXTENDED_KEY_USAGE 0 "EXTENDED_KEY_USAGE: the leaf (0) has extendedKeyUsage serverAuth but Netscape nsCertType client only, which forbids a TLS server"
  chain3 DNS:api.corp.test "nsCertType=client"
}
case_eku-oid-padding() {
  describe api.corp.test MALFORMED 0 "MALFORMED: the leaf (0) extendedKeyUsage has serverAuth's OID encoded non-minimally (1.3.6.1.5.5.7.3.1 with a 0x80 padding octet in the last arc)"
  # SEQUENCE { OID 2b 06 01 05 05 07 03 80 01 }: X.690 §8.19.2 forbids a leading 0x80 in a subidentifier.
  chain3 DNS:api.corp.test "extendedKeyUsage=" "2.5.29.37=DER:300b06092b0601050507038001"
}

# ------------------------------------------------------------------------------ SAN required

case_no-san() {
  describe good.corp.test NO_SAN 0 "NO_SAN: the leaf (0) has no subjectAltName, only CN=good.corp.test" \
    "CA/B BR 7.1.4.2.1 (host names only in subjectAltName) and RFC 9525, which obsoletes RFC 6125 and drops its CN-ID fallback (RFC 6125 §6.4.4), which OpenSSL still applies"
  root root
  ca int root
  cert leaf int "@subject=/CN=good.corp.test" "${LEAF_EXT[@]}"
  emit leaf int root
}

# ---------------------------------------------------------------------------------- validity

case_expired-leaf() {
  describe api.corp.test EXPIRED 0 "EXPIRED: the leaf (0) was valid 2020-01-01..2021-01-01"
  chain3 DNS:api.corp.test "@from=$OLD_FROM" "@to=$OLD_TO"
}
case_expired-intermediate() {
  describe api.corp.test EXPIRED 1 "EXPIRED: the intermediate (1) was valid 2020-01-01..2021-01-01"
  root root
  ca int root "@from=$OLD_FROM" "@to=$OLD_TO"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_expired-root() {
  describe api.corp.test EXPIRED 2 "EXPIRED: the root (2) was valid 2020-01-01..2021-01-01"
  root root "@from=$OLD_FROM" "@to=$OLD_TO"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_notyet-leaf() {
  describe api.corp.test NOT_YET_VALID 0 "NOT_YET_VALID: the leaf (0) is valid only from 2090-01-01"
  chain3 DNS:api.corp.test "@from=$FUTURE_FROM" "@to=$FUTURE_TO"
}
case_notyet-intermediate() {
  describe api.corp.test NOT_YET_VALID 1 "NOT_YET_VALID: the intermediate (1) is valid only from 2090-01-01"
  root root
  ca int root "@from=$FUTURE_FROM" "@to=$FUTURE_TO"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_notyet-root() {
  describe api.corp.test NOT_YET_VALID 2 "NOT_YET_VALID: the root (2) is valid only from 2090-01-01"
  root root "@from=$FUTURE_FROM" "@to=$FUTURE_TO"
  ca int root
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}

# ------------------------------------------------------------------------------- extensions

readonly UNKNOWN_OID=1.3.6.1.4.1.99999.1
case_unknown-critical-leaf() {
  describe api.corp.test UNKNOWN_CRITICAL_EXTENSION 0 "UNKNOWN_CRITICAL_EXTENSION: the leaf (0) has a critical extension $UNKNOWN_OID"
  chain3 DNS:api.corp.test "$UNKNOWN_OID=critical,DER:0500"
}
case_unknown-critical-intermediate() {
  describe api.corp.test UNKNOWN_CRITICAL_EXTENSION 1 "UNKNOWN_CRITICAL_EXTENSION: the intermediate (1) has a critical extension $UNKNOWN_OID"
  root root
  ca int root "$UNKNOWN_OID=critical,DER:0500"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_unknown-noncritical-leaf() {
  describe api.corp.test - - "nothing: the leaf has a non-critical extension $UNKNOWN_OID, which may be ignored"
  chain3 DNS:api.corp.test "$UNKNOWN_OID=DER:0500"
}
case_duplicate-extension() {
  describe api.corp.test DUPLICATE_EXTENSION 0 "DUPLICATE_EXTENSION: the leaf (0) has two subjectAltName extensions (both DNS:api.corp.test)"
  # `openssl ca` replaces a repeated extension, so write the second SAN under a placeholder OID
  # (2.5.29.99, same encoded length) and patch it to 2.5.29.17 before signing again.
  root root
  ca int root
  leaf leaf int DNS:api.corp.test "2.5.29.99=DER:$(der_general_names_dns api.corp.test)"
  resign_patched leaf int 0603551d63 0603551d11
  emit leaf int root
}

# --------------------------------------------------------------- CA certificates, key usage

case_v1-intermediate() {
  describe api.corp.test NOT_A_CA 1 "NOT_A_CA: the intermediate (1) is a version 1 certificate (no extensions, so no basicConstraints)"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test
  reissue int root "@subject=/O=Keysmith Test/CN=$C int" @v1=yes
  emit leaf int root
}
case_v1-root() {
  describe api.corp.test NOT_A_CA 2 "NOT_A_CA: the root (2) is a self-signed version 1 certificate; keysmith refuses it as openssl -x509_strict does (RFC 5280 §6.1.1 (d) would allow a bare trust anchor, but no public root program has one left)"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test
  reissue root self "@subject=/O=Keysmith Test/CN=$C root" @v1=yes
  emit leaf int root
}
case_ca-no-keycertsign() {
  describe api.corp.test KEY_USAGE 1 "KEY_USAGE: the intermediate (1) is CA:TRUE but its keyUsage is digitalSignature only, no keyCertSign"
  root root
  ca int root "keyUsage=critical,digitalSignature"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_intermediate-not-ca() {
  describe api.corp.test NOT_A_CA 1 "NOT_A_CA: the intermediate (1) has basicConstraints CA:FALSE"
  root root
  ca int root "basicConstraints=critical,CA:FALSE"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_intermediate-no-bc() {
  describe api.corp.test NOT_A_CA 1 "NOT_A_CA: the intermediate (1) has no basicConstraints (keyUsage keyCertSign, cRLSign)"
  root root
  ca int root "basicConstraints="
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_leaf-ku-no-digitalsig() {
  describe api.corp.test KEY_USAGE 0 "KEY_USAGE: the leaf (0, EC key) has keyUsage dataEncipherment only, which no TLS server use allows"
  chain3 DNS:api.corp.test "keyUsage=critical,dataEncipherment"
}
case_ca-as-leaf() {
  describe api.corp.test KEY_USAGE 0 "KEY_USAGE: the leaf (0) is a CA certificate (basicConstraints CA:TRUE, keyUsage keyCertSign, cRLSign, no extendedKeyUsage) used as a TLS server certificate"
  chain3 DNS:api.corp.test "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" "extendedKeyUsage="
}
case_ku-padding-bits() {
  describe api.corp.test MALFORMED 1 "MALFORMED: the intermediate (1) keyUsage BIT STRING 03 02 03 06 declares 3 unused bits that are not zero (keyCertSign, cRLSign sit in the padding)"
  # X.690 §11.2.1 (DER): the unused bits of a BIT STRING are zero.
  root root
  ca int root "keyUsage=" "2.5.29.15=critical,DER:03020306"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_bc-as-set() {
  describe api.corp.test MALFORMED 1 "MALFORMED: the intermediate (1) basicConstraints is encoded as a SET (31 03 01 01 ff) instead of a SEQUENCE"
  root root
  ca int root "basicConstraints=" "2.5.29.19=critical,DER:31030101ff"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}

# ------------------------------------------------------------------ signatures and trust

case_bad-signature() {
  describe api.corp.test BAD_SIGNATURE 0 "BAD_SIGNATURE: the leaf (0) names the intermediate as issuer (name and key id) but was signed by another key"
  root root
  ca int root
  # An impostor with the intermediate's name and key identifier, but its own key.
  ca impostor root "@subject=/O=Keysmith Test/CN=$C int" "subjectKeyIdentifier=$(skid int)"
  leaf leaf impostor DNS:api.corp.test
  emit leaf int root
}
case_untrusted-root() {
  describe api.corp.test UNTRUSTED 1 "UNTRUSTED: the chain leads to a root that is not root.pem (an unrelated CA); the intermediate (1) has no trusted issuer"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test
  root other
  emit leaf int other
}
case_untrusted-root-same-name() {
  describe api.corp.test UNTRUSTED 1 "UNTRUSTED: root.pem has the real root's name but another key; the intermediate (1) has no trusted issuer"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test
  cert other self "@subject=/O=Keysmith Test/CN=$C root" "${CA_EXT[@]}" "authorityKeyIdentifier="
  emit leaf int other
}
case_self-signed-leaf() {
  describe api.corp.test UNTRUSTED 0 "UNTRUSTED: the leaf (0) is self-signed and root.pem is an unrelated CA"
  root other
  leaf leaf self DNS:api.corp.test "authorityKeyIdentifier="
  emit leaf other
}

# -------------------------------------------------------------------------------- host names

case_hostname-mismatch() {
  describe api.corp.test HOSTNAME 0 "HOSTNAME: the leaf (0) is for other.corp.test, the host is api.corp.test"
  chain3 DNS:other.corp.test
}
case_ip-mismatch() {
  describe 127.0.0.1 HOSTNAME 0 "HOSTNAME: the leaf (0) has IP SAN 127.0.0.2, the host is 127.0.0.1"
  chain3 IP:127.0.0.2
}
case_ip-vs-dns() {
  describe 127.0.0.1 HOSTNAME 0 "HOSTNAME: the leaf (0) has a DNS SAN \"127.0.0.1\" (a string, not an IP SAN), the host is the IP 127.0.0.1"
  chain3 DNS:127.0.0.1
}
case_wildcard-ip() {
  describe 127.0.0.1 HOSTNAME 0 "HOSTNAME: the leaf (0) has a wildcard DNS SAN *.0.0.1, the host is the IP 127.0.0.1 (wildcards never match IP addresses)"
  chain3 'DNS:*.0.0.1'
}
case_wildcard-multilabel() {
  describe a.b.corp.test HOSTNAME 0 "HOSTNAME: the leaf (0) SAN *.corp.test does not cover two labels (a.b.corp.test)"
  chain3 'DNS:*.corp.test'
}
case_wildcard-bare() {
  describe corp.test HOSTNAME 0 "HOSTNAME: the leaf (0) SAN *.corp.test does not cover corp.test itself"
  chain3 'DNS:*.corp.test'
}
case_wildcard-partial() {
  describe foo.corp.test HOSTNAME 0 "HOSTNAME: the leaf (0) SAN f*.corp.test is a partial-label wildcard, the host is foo.corp.test" \
    "CA/B BR 7.1.4.2.1 (and its definition of a Wildcard Domain Name, §1.6.1: \"*.\" then an FQDN) and RFC 9525 §6.3: a wildcard only as the whole left-most label; RFC 6125 §6.4.3 allowed partial labels, as OpenSSL still does"
  chain3 'DNS:f*.corp.test'
}
case_wildcard-tld() {
  describe a.test HOSTNAME 0 "HOSTNAME: the leaf (0) SAN *.test is a wildcard directly under a top-level domain, the host is a.test"
  chain3 'DNS:*.test'
}
case_wildcard-public-suffix() {
  describe example.co.uk HOSTNAME 0 "HOSTNAME: the leaf (0) SAN *.co.uk is a wildcard directly under a public suffix, the host is example.co.uk" \
    "CA/B BR 3.2.2.6 (no wildcard directly under a public suffix), as browsers enforce with the Public Suffix List; OpenSSL only refuses wildcards with fewer than two labels after them"
  chain3 'DNS:*.co.uk'
}
case_wildcard-not-leftmost() {
  describe a.b.corp.test HOSTNAME 0 "HOSTNAME: the leaf (0) SAN a.*.corp.test has the wildcard in a label that is not the left-most"
  chain3 'DNS:a.*.corp.test'
}

# --------------------------------------------------- RFC 5280 profile (openssl -x509_strict)

case_ca-bc-not-critical() {
  describe api.corp.test PROFILE 1 "PROFILE: the intermediate (1) has basicConstraints CA:TRUE not marked critical (RFC 5280 §4.2.1.9)"
  root root
  ca int root "basicConstraints=CA:TRUE"
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_ca-no-ku() {
  describe api.corp.test PROFILE 1 "PROFILE: the intermediate (1) has no keyUsage extension (RFC 5280 §4.2.1.3: CAs MUST include it)"
  root root
  ca int root "keyUsage="
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_missing-akid-leaf() {
  describe api.corp.test PROFILE 0 "PROFILE: the leaf (0) has no authorityKeyIdentifier (RFC 5280 §4.2.1.1)"
  chain3 DNS:api.corp.test "authorityKeyIdentifier="
}
case_missing-akid-intermediate() {
  describe api.corp.test PROFILE 1 "PROFILE: the intermediate (1) has no authorityKeyIdentifier (RFC 5280 §4.2.1.1)"
  root root
  ca int root "authorityKeyIdentifier="
  leaf leaf int DNS:api.corp.test
  emit leaf int root
}
case_missing-skid() {
  describe api.corp.test PROFILE 1 "PROFILE: the intermediate CA (1) has no subjectKeyIdentifier (RFC 5280 §4.2.1.2)"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test
  reissue int root "@subject=/O=Keysmith Test/CN=$C int" "${CA_EXT[@]}" "subjectKeyIdentifier="
  emit leaf int root
}
case_empty-subject-noncritical-san() {
  describe api.corp.test PROFILE 0 "PROFILE: the leaf (0) has an empty subject and a non-critical subjectAltName (RFC 5280 §4.2.1.6)"
  root root
  ca int root
  leaf leaf int DNS:api.corp.test @subject=/
  emit leaf int root
}

# ---------------------------------------------------------------------------------------------
# The table: every case, in the order of the README.

CASES=(
  good-2 good-3 good-4 good-rsa good-sha1-root weak-key-leaf weak-signature-leaf weak-signature-pss-sha1
  policy-explicit-required policy-explicit-ok policy-disjoint policy-inhibit-any policy-any-ok policy-empty-constraints
  policy-cps-not-ia5 policy-mapping-any
  good-ip good-ipv6 good-wildcard good-hostname-case
  good-empty-subject good-pathlen good-pathlen-0 good-no-eku good-intermediate-eku
  pathlen-violated pathlen-violated-4 names-numeric-pathlen names-case-spacing
  nc-dns-permitted nc-dns-permitted-ok nc-dns-permitted-apex nc-dns-label-boundary
  nc-dns-excluded nc-dns-excluded-ok nc-dns-excluded-subdomain nc-dns-excluded-wildcard
  nc-ip-permitted nc-ip-permitted-ok nc-ip-excluded nc-ip-excluded-ok
  nc-dn-permitted nc-dn-permitted-ok nc-dn-excluded nc-dn-excluded-empty-rdn
  nc-email nc-email-ok nc-cn nc-cn-ip-san nc-email-excluded-domain nc-uri-excluded-query
  nc-constructed-dns nc-constructed-ip
  eku-client-only eku-intermediate eku-any root-eku-clientauth root-eku-any nscerttype-client eku-oid-padding
  no-san
  expired-leaf expired-intermediate expired-root notyet-leaf notyet-intermediate notyet-root
  unknown-critical-leaf unknown-critical-intermediate unknown-noncritical-leaf duplicate-extension
  v1-intermediate v1-root ca-no-keycertsign intermediate-not-ca intermediate-no-bc leaf-ku-no-digitalsig
  ca-as-leaf ku-padding-bits bc-as-set
  bad-signature untrusted-root untrusted-root-same-name self-signed-leaf
  hostname-mismatch ip-mismatch ip-vs-dns wildcard-ip
  wildcard-multilabel wildcard-bare wildcard-partial wildcard-tld wildcard-public-suffix wildcard-not-leftmost
  ca-bc-not-critical ca-no-ku missing-akid-leaf missing-akid-intermediate missing-skid
  empty-subject-noncritical-san
)

write_readme() {
  cat <<'EOF'
# TLS validation corpus

Certificate chains that each break exactly one validation rule, and valid twins, for the tests of
keysmith's path validator (`src/tls/validate.ts`, issue 9). **Generated** by
`scripts/make-tls-fixtures.sh`; do not edit by hand. To regenerate (from the repo root):

```sh
bash scripts/make-tls-fixtures.sh
```

Re-running changes only keys, key identifiers and signatures; names, serial numbers, dates and
extensions stay the same. **All private keys here are throwaway test keys**: never trust
`root.pem` anywhere but in tests.

## Layout

One folder per case, `fixtures/tls/<case>/`:

| file        | what                                                                                  |
|-------------|---------------------------------------------------------------------------------------|
| `chain.pem` | what a server sends: the leaf first, then intermediates (never the root)              |
| `root.pem`  | the trust anchor: the only root to trust                                              |
| `leaf.key`  | the leaf's private key (PKCS#8 PEM), to serve `chain.pem` from a real TLS server      |
| `case.json` | `name`, `host` (DNS name or IP to check the leaf against), `rule` (keysmith's code, `null` when valid), `breaks`, `certificate` (0 = leaf, 1 = first intermediate, … last = root; `null` when valid), `openssl` (recorded verdict), `cite` (the rule that makes keysmith differ from OpenSSL, else `null`) |

`openssl` in `case.json` is OpenSSL's actual verdict, recorded by the script (never hand-written):

```sh
openssl verify -x509_strict -purpose sslserver -policy_check -policy anyPolicy -CAfile root.pem \
  -untrusted <intermediates> [-verify_hostname HOST | -verify_ip IP] <leaf>
```

(no `-untrusted` when there is no intermediate; `-policy_check -policy anyPolicy` are RFC 5280
§6.1.1's default inputs, without which OpenSSL skips certificate policy processing altogether). `ok`, then `error`/`depth` of the first error
reported (`null` when OK), and `errors`: every `error N at D depth lookup: TEXT` line, in order
(`openssl verify` continues past some errors).

Dates: valid certificates 2025-01-01..2045-01-01; expired 2020-01-01..2021-01-01; not yet valid
from 2090-01-01. Keys are EC P-256, except `good-rsa` (RSA-2048), `weak-key-leaf` (RSA-1024) and
the root and intermediate of `weak-signature-pss-sha1` (RSA-2048).

Rules: `EXPIRED`, `NOT_YET_VALID`, `BAD_SIGNATURE`, `UNTRUSTED`, `NOT_A_CA`, `PATH_LENGTH`,
`KEY_USAGE`, `NAME_CONSTRAINTS`, `UNKNOWN_CRITICAL_EXTENSION`, `DUPLICATE_EXTENSION`,
`EXTENDED_KEY_USAGE`, `NO_SAN`, `WEAK_KEY`, `WEAK_SIGNATURE`, `POLICY`, `HOSTNAME`, `PROFILE` (an RFC 5280 MUST
that `-x509_strict` enforces), `MALFORMED` (an encoding that is not DER, or not the ASN.1 type
the field must have).

## Cases

| case | host | rule | breaks | `openssl verify` |
|------|------|------|--------|------------------|
EOF
  printf '%s\n' "${CASE_ROWS[@]}"
  cat <<'EOF'

## Where keysmith and OpenSSL differ

Where the rule is set but OpenSSL says OK, keysmith is stricter than OpenSSL; where the rule is `—`
but OpenSSL rejects, keysmith accepts; where both reject but for different reasons (the
`nc-constructed-*` cases), keysmith's rule comes first. Each time `case.json`'s `cite` gives the reason:

EOF
  printf '%s\n' "${DIFF_ROWS[@]}"
  cat <<'EOF'

## Notes

- `duplicate-extension`: `openssl ca` replaces a repeated extension rather than repeating it, so
  the script writes the second subjectAltName under a placeholder OID (2.5.29.99, same encoded
  length), patches the OID to 2.5.29.17 in the to-be-signed bytes and signs them again with
  `openssl dgst -sign`. OpenSSL then marks the leaf invalid and cannot match it to its issuer, so
  its verdict is `unable to get local issuer certificate`, not a message about duplicates.
- `missing-skid`, `v1-intermediate`, `v1-root`: the CA is issued with a subjectKeyIdentifier first,
  signs its child, then is issued again with the same key, name and serial without it (v1: without
  any extension). So the child still has an authorityKeyIdentifier keyid and breaks nothing itself.
- `ku-padding-bits`, `bc-as-set`, `eku-oid-padding`: the extension is written raw (`OID=DER:...`).
  OpenSSL cannot decode it and marks that certificate invalid, so as with `duplicate-extension` its
  verdict is `unable to get local issuer certificate` at depth 0.
- `nc-constructed-dns`, `nc-constructed-ip`: the leaf's subjectAltName is written raw with a
  constructed dNSName / iPAddress. OpenSSL decodes BER there, joins the pieces (evil.test,
  127.0.0.1) and reports the excluded subtree; keysmith refuses the encoding itself.
- `names-numeric-pathlen`, `names-case-spacing`: names are patched in the to-be-signed bytes (same
  length) and signed again: the string tags of `CN=123` (UTF8String → PrintableString in the
  first intermediate, → NumericString in the second, whose children then copy those names as their
  issuer), and the case and spacing of the leaf's issuer name. OpenSSL compares names in a
  canonical form (case folded, inner spaces collapsed, PrintableString and UTF8String alike, but
  NumericString kept apart), so it sees the second intermediate as not self-issued.
- `nc-dn-excluded-empty-rdn`: `openssl req` writes no empty RDN, so the leaf is issued with subject
  O=Evil, CN=leaf, then that Name is replaced in the to-be-signed bytes by one with an empty SET
  first (two octets longer; the script recomputes the to-be-signed length) and signed again.
  OpenSSL's canonical form of a name drops empty RDNs, so it sees O=Evil, CN=leaf, under the
  excluded O=Evil.
- `policy-cps-not-ia5`, `policy-mapping-any`: the intermediate's certificatePolicies /
  policyMappings are written raw (`OID=DER:...`). OpenSSL reads them only when it builds its
  policy cache under `-policy_check`, so it still finds the issuer, then marks the intermediate's
  policy invalid: `invalid or inconsistent certificate policy extension` at depth 1.
- `root-eku-clientauth`, `root-eku-any`: `openssl verify` checks a trust anchor's purpose when the
  root has no trust settings of its own (a plain `BEGIN CERTIFICATE` file, as `root.pem`), so the
  root's extendedKeyUsage must allow serverAuth: `unsuitable certificate purpose` at depth 2.
- `bad-signature`: the leaf's issuer name and authorityKeyIdentifier are the intermediate's (an
  impostor CA with the same name and the same subjectKeyIdentifier value signed it), so path
  building reaches the signature check.
- Node's TLS client (OpenSSL without `-x509_strict`) accepts the `PROFILE` cases and `v1-root`, and
  reports name-constraint and unknown-critical-extension failures as `authorizationError` code
  `UNSPECIFIED`.
EOF
}

main() {
  local only=("$@")
  ((${#only[@]})) || only=("${CASES[@]}")
  STAGE=$WORK/out
  mkdir -p "$STAGE"
  for C in "${only[@]}"; do
    declare -F "case_$C" >/dev/null || die "no such case: $C"
    CD=$WORK/certs/$C
    mkdir -p "$CD"
    "case_$C"
    rm -rf "$CD"
  done
  if ((${#only[@]} == ${#CASES[@]})); then
    write_readme >"$STAGE/README.md"
    rm -rf "$OUT"
    mkdir -p "$(dirname "$OUT")"
    cp -R "$STAGE" "$OUT"
  else
    # A subset (for debugging): write those cases only, leave the README alone.
    mkdir -p "$OUT"
    for C in "${only[@]}"; do rm -rf "${OUT:?}/$C"; cp -R "$STAGE/$C" "$OUT/$C"; done
  fi
  echo "make-tls-fixtures: wrote ${#only[@]} cases to $OUT" >&2
}

main "$@"
