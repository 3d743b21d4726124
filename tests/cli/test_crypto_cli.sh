#!/usr/bin/env bash
# test_crypto_cli.sh: the crypto commands of the civitas CLI (keygen, key,
# hash, sign, verify), their exit codes (0 valid, 1 invalid or refused with a
# message, 2 usage error), key file permissions and passphrases, and interop
# with the openssl command line: signatures made by either side verify on the
# other (Ed25519 and SM2 with ID 1234567812345678), PEM keys move both ways,
# and `civitas hash` equals `openssl dgst -sm3` and sha256sum.
#
# CTest runs it as: bash test_crypto_cli.sh /path/to/civitas
set -euo pipefail

CIVITAS=${1:?usage: test_crypto_cli.sh /path/to/civitas}
CIVITAS=$(cd "$(dirname "$CIVITAS")" && pwd)/$(basename "$CIVITAS")
for tool in openssl sha256sum xxd; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed for this test" >&2; exit 1; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/cv-test-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"
unset CIVITAS_PASSPHRASE

checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok   $*"; }

# run CODE CMD...: runs CMD, expects exit status CODE; stdout in out.txt, stderr in err.txt.
run() {
    local want=$1; shift
    local got=0
    "$@" >out.txt 2>err.txt </dev/null || got=$?
    if [ "$got" != "$want" ]; then
        echo "--- stdout:" >&2; cat out.txt >&2
        echo "--- stderr:" >&2; cat err.txt >&2
        fail "exit $got, expected $want: $*"
    fi
}
# expect_err TEXT: the last command's stderr contains TEXT.
expect_err() {
    grep -qF -- "$1" err.txt || { cat err.txt >&2; fail "stderr lacks \"$1\""; }
}
mode_of() { stat -c %a "$1"; }
ossl_sm2() { openssl pkeyutl "$@" -rawin -digest sm3 -pkeyopt distid:1234567812345678; }

echo "== self-test and usage"
run 0 "$CIVITAS" selftest
grep -q "ok" out.txt || fail "selftest did not say ok"
ok "civitas selftest passes"
run 2 "$CIVITAS"
ok "no command: exit 2"
run 2 "$CIVITAS" no-such-command
expect_err "unknown command"
ok "unknown command: exit 2"
run 2 "$CIVITAS" verify
expect_err "usage:"
ok "verify without arguments: exit 2 with usage"
run 2 "$CIVITAS" sign --key x.key --bogus msg
expect_err "unknown option --bogus"
ok "unknown option: exit 2"
run 2 "$CIVITAS" hash --suite gm a b
expect_err "unexpected argument"
ok "extra argument: exit 2"
run 2 "$CIVITAS" keygen --suite
expect_err "needs a value"
ok "option without its value: exit 2"
# Missing required options are usage errors too (cli.h: 2 = usage error).
for args in "keygen --suite std" "sign msg" "verify msg"; do
    code=0; "$CIVITAS" $args >/dev/null 2>err.txt </dev/null || code=$?
    [ "$code" = 2 ] || fail "civitas $args: exit $code, expected 2 (usage error)"
    grep -q "required" err.txt || fail "civitas $args: no message naming the missing option"
    grep -q "usage:" err.txt || fail "civitas $args: no usage line"
done
ok "missing required options: exit 2 with a message and the usage line"

echo "== keygen"
for suite in std gm; do
    run 0 "$CIVITAS" keygen --suite $suite -o $suite.key
    [ "$(mode_of $suite.key)" = 600 ] || fail "$suite.key has mode $(mode_of $suite.key)"
    grep -q "^suite: *$suite$" out.txt || fail "keygen did not print the suite"
    grep -q "^address: *$suite:[0-9a-f]\{40\}$" out.txt || fail "keygen did not print the address"
    grep -q "^encrypted: *no" out.txt || fail "keygen did not say encrypted: no"
    ok "keygen --suite $suite writes a 0600 key file"
    run 0 "$CIVITAS" key show $suite.key
    grep -q "^public: *[0-9a-f]\+$" out.txt || fail "key show lacks the public key"
    ok "key show $suite"
    run 0 "$CIVITAS" key export-pub $suite.key
    cp out.txt $suite.pub.pem
    head -1 $suite.pub.pem | grep -q -- "-----BEGIN PUBLIC KEY-----" || fail "export-pub is not PEM"
    openssl pkey -pubin -in $suite.pub.pem -noout || fail "openssl cannot read $suite.pub.pem"
    ok "key export-pub $suite is a PEM public key openssl reads"
    # the raw key printed by `key show` is the end of the DER SubjectPublicKeyInfo
    pub_hex=$("$CIVITAS" key show $suite.key | sed -n 's/^public: *//p')
    der_hex=$(openssl pkey -pubin -in $suite.pub.pem -outform DER | xxd -p | tr -d '\n')
    [ "${der_hex%$pub_hex}" != "$der_hex" ] || fail "key show and export-pub disagree"
    ok "key show and export-pub agree ($suite)"
    run 0 "$CIVITAS" key export-priv $suite.key
    cp out.txt $suite.priv.pem
    openssl pkey -in $suite.priv.pem -pubout | cmp -s - $suite.pub.pem || fail "export-priv gives another public key"
    ok "key export-priv $suite: openssl derives the same public key"
done
before=$(sha256sum std.key)
run 1 "$CIVITAS" keygen --suite std -o std.key
expect_err "std.key"
[ "$(sha256sum std.key)" = "$before" ] || fail "keygen overwrote std.key"
ok "keygen refuses to overwrite an existing key file"
run 1 "$CIVITAS" keygen --suite rsa -o rsa.key
expect_err "rsa"
[ ! -e rsa.key ] || fail "rsa.key was written"
ok "keygen refuses an unknown suite"

echo "== sign and verify"
printf 'pay 10 to alice\n' > msg.txt
printf 'pay 99 to alice\n' > tampered.txt
for suite in std gm; do
    other=$([ $suite = std ] && echo gm || echo std)
    run 0 "$CIVITAS" sign --key $suite.key msg.txt
    sig=$(cat out.txt)
    [[ "$sig" =~ ^[0-9a-f]+$ ]] || fail "sign printed \"$sig\""
    run 0 "$CIVITAS" verify --pub $suite.pub.pem --sig "$sig" msg.txt
    grep -q "valid $suite signature" out.txt || fail "verify did not say valid"
    ok "$suite: sign then verify: exit 0"
    "$CIVITAS" verify --pub $suite.pub.pem --sig "$sig" - < msg.txt >/dev/null || fail "verify from stdin failed"
    ok "$suite: verify reads the message from standard input"
    run 1 "$CIVITAS" verify --pub $suite.pub.pem --sig "$sig" tampered.txt
    expect_err "INVALID"
    ok "$suite: tampered message: exit 1, INVALID"
    # a signature with one bit changed (last hex digit)
    last=${sig: -1}; flipped=$(printf '%x' $(( 0x$last ^ 1 )))
    run 1 "$CIVITAS" verify --pub $suite.pub.pem --sig "${sig%?}$flipped" msg.txt
    ok "$suite: altered signature: exit 1"
    run 1 "$CIVITAS" verify --pub $other.pub.pem --sig "$sig" msg.txt
    ok "$suite: signature under the other suite's key: exit 1"
    "$CIVITAS" keygen --suite $suite -o $suite-2.key >/dev/null
    "$CIVITAS" key export-pub $suite-2.key > $suite-2.pub.pem
    run 1 "$CIVITAS" verify --pub $suite-2.pub.pem --sig "$sig" msg.txt
    expect_err "INVALID"
    ok "$suite: signature under another key: exit 1"
    run 1 "$CIVITAS" verify --pub $suite.pub.pem --sig "zz$sig" msg.txt
    ok "$suite: non-hex signature: exit 1"
    run 1 "$CIVITAS" verify --pub msg.txt --sig "$sig" msg.txt
    expect_err "PEM"
    ok "$suite: a public key file that is not PEM: exit 1 with message"
    run 1 "$CIVITAS" sign --key no-such.key msg.txt
    expect_err "no-such.key"
    ok "$suite: sign with a missing key file: exit 1 naming it"
done
# a larger file, altered in its last byte
head -c 300000 /dev/urandom > big.bin
sig=$("$CIVITAS" sign --key gm.key big.bin)
run 0 "$CIVITAS" verify --pub gm.pub.pem --sig "$sig" big.bin
last=$(tail -c 1 big.bin | xxd -p)
printf "\\x$(printf '%02x' $(( 0x$last ^ 1 )))" | dd of=big.bin bs=1 seek=299999 conv=notrunc status=none
[ "$(tail -c 1 big.bin | xxd -p)" != "$last" ] || fail "could not alter big.bin"
run 1 "$CIVITAS" verify --pub gm.pub.pem --sig "$sig" big.bin
expect_err "INVALID"
ok "300 kB file with its last byte altered: exit 1"

echo "== key file permissions"
for m in 640 604 644 660; do
    chmod $m gm.key
    run 1 "$CIVITAS" sign --key gm.key msg.txt
    expect_err "gm.key"
    expect_err "chmod 600"
    ok "key file mode $m refused, naming the file"
done
chmod 600 gm.key
run 0 "$CIVITAS" sign --key gm.key msg.txt
ok "mode 600 accepted again"

echo "== encrypted key files"
printf 'open sesame\n' > pass.txt
printf 'open says me\n' > wrong.txt
for suite in std gm; do
    run 0 "$CIVITAS" keygen --suite $suite -o $suite-enc.key --encrypt --passphrase-file pass.txt
    grep -q "^encrypted: *yes" out.txt || fail "keygen did not say encrypted: yes"
    [ "$(mode_of $suite-enc.key)" = 600 ] || fail "$suite-enc.key mode $(mode_of $suite-enc.key)"
    ! grep -q '"secret"' $suite-enc.key || fail "$suite-enc.key holds the secret in clear"
    ok "$suite: keygen --encrypt --passphrase-file"
    "$CIVITAS" key export-pub $suite-enc.key > $suite-enc.pub.pem
    ok "$suite: export-pub of an encrypted key needs no passphrase"
    run 0 "$CIVITAS" sign --key $suite-enc.key --passphrase-file pass.txt msg.txt
    sig=$(cat out.txt)
    run 0 "$CIVITAS" verify --pub $suite-enc.pub.pem --sig "$sig" msg.txt
    ok "$suite: sign with --passphrase-file"
    run 0 env CIVITAS_PASSPHRASE='open sesame' "$CIVITAS" sign --key $suite-enc.key msg.txt
    run 0 "$CIVITAS" verify --pub $suite-enc.pub.pem --sig "$(cat out.txt)" msg.txt
    ok "$suite: sign with CIVITAS_PASSPHRASE"
    run 1 "$CIVITAS" sign --key $suite-enc.key --passphrase-file wrong.txt msg.txt
    expect_err "wrong passphrase"
    ok "$suite: wrong passphrase file: exit 1, wrong passphrase"
    run 1 env CIVITAS_PASSPHRASE='open says me' "$CIVITAS" sign --key $suite-enc.key msg.txt
    expect_err "wrong passphrase"
    ok "$suite: wrong CIVITAS_PASSPHRASE: exit 1"
    run 1 "$CIVITAS" sign --key $suite-enc.key msg.txt
    expect_err "passphrase"
    ok "$suite: no passphrase and no terminal: exit 1 asking for one"
done
run 0 env CIVITAS_PASSPHRASE='from the environment' "$CIVITAS" keygen --suite gm -o env.key --encrypt
grep -q "^encrypted: *yes" out.txt || fail "keygen with CIVITAS_PASSPHRASE did not encrypt"
run 0 env CIVITAS_PASSPHRASE='from the environment' "$CIVITAS" key export-priv env.key
run 1 "$CIVITAS" key export-priv env.key
ok "keygen --encrypt with CIVITAS_PASSPHRASE; export-priv needs it"
run 1 "$CIVITAS" keygen --suite gm -o noenc.key --encrypt
expect_err "passphrase"
[ ! -e noenc.key ] || fail "noenc.key written without a passphrase"
ok "keygen --encrypt without any passphrase: exit 1, nothing written"

echo "== interop with openssl: SM2 (SM3, ID 1234567812345678)"
for i in 1 2 3; do
    head -c $((i * 37)) /dev/urandom > m$i.bin
    # civitas signs, openssl verifies
    "$CIVITAS" sign --key gm.key m$i.bin | xxd -r -p > civ$i.der
    ossl_sm2 -verify -pubin -inkey gm.pub.pem -sigfile civ$i.der -in m$i.bin >/dev/null ||
        fail "openssl rejects civitas's SM2 signature $i"
    # openssl signs with the exported key, civitas verifies
    ossl_sm2 -sign -inkey gm.priv.pem -in m$i.bin -out ossl$i.der
    run 0 "$CIVITAS" verify --pub gm.pub.pem --sig "$(xxd -p ossl$i.der | tr -d '\n')" m$i.bin
done
ok "SM2: 3 civitas signatures verify with openssl pkeyutl, 3 openssl signatures with civitas"
# and both sides reject a signature over another message
if ossl_sm2 -verify -pubin -inkey gm.pub.pem -sigfile civ1.der -in m2.bin >/dev/null 2>&1; then
    fail "openssl accepted civitas's signature over another message"
fi
run 1 "$CIVITAS" verify --pub gm.pub.pem --sig "$(xxd -p ossl1.der | tr -d '\n')" m2.bin
ok "SM2: a signature over another message fails on both sides"
# openssl's own key imports, signs, and its signatures verify
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out ossl-sm2.pem 2>/dev/null
openssl pkey -in ossl-sm2.pem -pubout -out ossl-sm2.pub.pem
run 0 "$CIVITAS" key import ossl-sm2.pem -o ossl-sm2.key
[ "$(mode_of ossl-sm2.key)" = 600 ] || fail "imported key file mode $(mode_of ossl-sm2.key)"
"$CIVITAS" key export-pub ossl-sm2.key | cmp -s - ossl-sm2.pub.pem || fail "imported SM2 key has another public key"
"$CIVITAS" sign --key ossl-sm2.key msg.txt | xxd -r -p > civ-imp.der
ossl_sm2 -verify -pubin -inkey ossl-sm2.pub.pem -sigfile civ-imp.der -in msg.txt >/dev/null ||
    fail "openssl rejects the signature of its imported key"
ossl_sm2 -sign -inkey ossl-sm2.pem -in msg.txt -out ossl-imp.der
run 0 "$CIVITAS" verify --pub ossl-sm2.pub.pem --sig "$(xxd -p ossl-imp.der | tr -d '\n')" msg.txt
ok "SM2: an openssl-generated key imports (same public key) and interoperates"

echo "== interop with openssl: Ed25519"
for i in 1 2 3; do
    head -c $((i * 41)) /dev/urandom > e$i.bin
    "$CIVITAS" sign --key std.key e$i.bin | xxd -r -p > civ$i.sig
    openssl pkeyutl -verify -pubin -inkey std.pub.pem -rawin -in e$i.bin -sigfile civ$i.sig >/dev/null ||
        fail "openssl rejects civitas's Ed25519 signature $i"
    openssl pkeyutl -sign -inkey std.priv.pem -rawin -in e$i.bin -out ossl$i.sig
    run 0 "$CIVITAS" verify --pub std.pub.pem --sig "$(xxd -p ossl$i.sig | tr -d '\n')" e$i.bin
    # Ed25519 is deterministic: both sides make the same signature
    cmp -s civ$i.sig ossl$i.sig || fail "civitas and openssl Ed25519 signatures differ"
done
ok "Ed25519: signatures verify both ways and are byte-identical"
if openssl pkeyutl -verify -pubin -inkey std.pub.pem -rawin -in e2.bin -sigfile civ1.sig >/dev/null 2>&1; then
    fail "openssl accepted civitas's signature over another message"
fi
ok "Ed25519: a signature over another message fails with openssl"
openssl genpkey -algorithm ed25519 -out ossl-ed.pem
openssl pkey -in ossl-ed.pem -pubout -out ossl-ed.pub.pem
run 0 env CIVITAS_PASSPHRASE=pw "$CIVITAS" key import ossl-ed.pem -o ossl-ed.key --encrypt
"$CIVITAS" key export-pub ossl-ed.key | cmp -s - ossl-ed.pub.pem || fail "imported Ed25519 key has another public key"
CIVITAS_PASSPHRASE=pw "$CIVITAS" key export-priv ossl-ed.key | cmp -s - ossl-ed.pem ||
    fail "export-priv of an imported Ed25519 key differs from openssl's PEM"
ok "Ed25519: an openssl key imports (encrypted) and exports to the same PEM"
# keys of other types are refused
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem 2>/dev/null
run 1 "$CIVITAS" key import p256.pem -o p256.key
expect_err "neither Ed25519 nor SM2"
ok "a P-256 key is refused on import"

echo "== hash"
printf '' > h0; printf 'a' > h1; printf 'abc' > habc
head -c 55 /dev/urandom > h55; head -c 56 /dev/urandom > h56; head -c 64 /dev/urandom > h64
head -c 65 /dev/urandom > h65; head -c 200000 /dev/urandom > hbig
for f in h0 h1 habc h55 h56 h64 h65 hbig; do
    want_gm=$(openssl dgst -sm3 -r $f | cut -d' ' -f1)
    run 0 "$CIVITAS" hash --suite gm $f
    [ "$(cat out.txt)" = "$want_gm" ] || fail "SM3 of $f: civitas $(cat out.txt), openssl $want_gm"
    want_std=$(sha256sum $f | cut -d' ' -f1)
    run 0 "$CIVITAS" hash --suite std $f
    [ "$(cat out.txt)" = "$want_std" ] || fail "SHA-256 of $f: civitas $(cat out.txt), sha256sum $want_std"
done
ok "hash --suite gm equals openssl dgst -sm3, --suite std equals sha256sum (8 files, 0 to 200000 bytes)"
[ "$("$CIVITAS" hash --suite gm - < habc)" = 66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0 ] ||
    fail "SM3(abc) from standard input"
ok "hash of standard input (SM3 \"abc\", GB/T 32905)"
run 1 "$CIVITAS" hash --suite gm no-such-file
expect_err "no-such-file"
ok "hash of a missing file: exit 1 naming it"
run 1 "$CIVITAS" hash --suite sha1 h1
expect_err "sha1"
ok "hash with an unknown suite: exit 1"

echo "all $checks CLI checks passed"
