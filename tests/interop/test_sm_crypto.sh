#!/usr/bin/env bash
# test_sm_crypto.sh: cross-checks civitas's gm suite against sm-crypto (npm),
# an SM2/SM3 implementation independent of OpenSSL:
#   - SM3: `civitas hash --suite gm` equals sm-crypto's sm3 on 300 random
#     messages of 0 to 1000 bytes (with the block-boundary lengths);
#   - SM2, civitas -> sm-crypto: 24 signatures by 4 civitas keys verify with
#     sm-crypto (ID 1234567812345678, DER), fail for another message, and
#     sm-crypto derives the same public keys from the civitas secrets;
#   - SM2, sm-crypto -> civitas: 24 signatures by 3 sm-crypto keys verify
#     with `civitas verify` (the keys as SubjectPublicKeyInfo PEM), and fail
#     for another message;
#   - the GB/T 32918.5 example, as a sanity check of sm-crypto itself.
# sm-crypto is pinned in package-lock.json; node_modules is installed with
# `npm ci` here only if it is missing.
#
# CTest runs it as: bash test_sm_crypto.sh /path/to/civitas
set -euo pipefail

CIVITAS=${1:?usage: test_sm_crypto.sh /path/to/civitas}
CIVITAS=$(cd "$(dirname "$CIVITAS")" && pwd)/$(basename "$CIVITAS")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N_HASH=300
N_SIGN=24

fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not installed: this test needs Node.js (>= 17.4) and npm"
command -v npm >/dev/null || fail "npm is not installed: this test needs Node.js and npm"
if [ ! -f "$HERE/node_modules/sm-crypto/package.json" ]; then
    echo "installing sm-crypto from package-lock.json (npm ci --prefix $HERE)"
    npm ci --prefix "$HERE" --no-audit --no-fund >/dev/null || fail "npm ci failed in $HERE"
fi
node -e "require('$HERE/node_modules/sm-crypto')" || fail "sm-crypto does not load"
echo "sm-crypto $(node -p "require('$HERE/node_modules/sm-crypto/package.json').version"), node $(node --version)"
check() { NODE_PATH="$HERE/node_modules" node "$HERE/sm_crypto_check.js" "$@"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/cv-test-smcrypto-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
mkdir msgs signed

echo "== GB/T 32918.5 example in sm-crypto"
check gbt

echo "== SM3: civitas hash --suite gm vs sm-crypto on $N_HASH messages"
check messages msgs $N_HASH
for f in msgs/m*.bin; do
    digest=$("$CIVITAS" hash --suite gm "$f") || fail "civitas hash --suite gm $f failed"
    printf '%s %s\n' "$f" "$digest"
done > digests.txt
[ "$(wc -l < digests.txt)" = $N_HASH ] || fail "expected $N_HASH digests"
check sm3 digests.txt

echo "== SM2: civitas signs, sm-crypto verifies"
declare -a pubs secrets
for k in 0 1 2 3; do
    "$CIVITAS" keygen --suite gm -o key$k.key >/dev/null
    pubs[k]=$("$CIVITAS" key show key$k.key | sed -n 's/^public: *//p')
    # the secret of a clear key file is its "secret" member (docs/KEYS.md)
    secrets[k]=$(sed -n 's/^ *"secret": *"\([0-9a-f]*\)".*/\1/p' key$k.key)
    [ ${#pubs[k]} = 130 ] && [ ${#secrets[k]} = 64 ] || fail "could not read key$k.key"
done
for i in $(seq 0 $((N_SIGN - 1))); do
    k=$((i % 4))
    f=msgs/m$(printf '%03d' $((i * 7 % N_HASH))).bin
    sig=$("$CIVITAS" sign --key key$k.key "$f") || fail "civitas sign $f failed"
    echo "$f ${pubs[k]} $sig ${secrets[k]}"
done > civitas-signed.txt
check verify civitas-signed.txt

echo "== SM2: sm-crypto signs, civitas verifies"
check sign signed $N_SIGN 3
n=0
while read -r f pem sig; do
    "$CIVITAS" verify --pub "$pem" --sig "$sig" "$f" >/dev/null ||
        fail "civitas rejects sm-crypto's signature of $f (key $pem, signature $sig)"
    printf 'x' | cat "$f" - > other.bin
    if "$CIVITAS" verify --pub "$pem" --sig "$sig" other.bin >/dev/null 2>&1; then
        fail "civitas accepts sm-crypto's signature of $f for another message"
    fi
    n=$((n + 1))
done < signed/signed.txt
[ $n = $N_SIGN ] || fail "checked $n of $N_SIGN signatures"
echo "SM2: $n sm-crypto signatures verify with civitas (and fail for another message)"
# and openssl reads the PEM that was built for sm-crypto's keys the same way
if command -v openssl >/dev/null; then
    openssl pkey -pubin -in signed/k0.pub.pem -noout || fail "openssl cannot read the sm-crypto key PEM"
fi

echo "sm-crypto interop: all checks passed"
