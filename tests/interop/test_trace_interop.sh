#!/usr/bin/env bash
# test_trace_interop.sh: cross-checks civitas trace against independent
# implementations from npm (pinned in package-lock.json):
#   - epcis2.js: every EPCIS 2.0 document civitas serves (history with
#     documents) and every document of the worked example validates against
#     the EPCIS 2.0 schema; civitas's event hash IDs (`civitas trace id`, and
#     the ids of served events) equal epcis2.js's eventToHashedId;
#   - digital-link.js: on 400 generated codes (valid and broken check digits,
#     GTIN-8/12/13/14, SSCC, GLN, qualifiers in and out of order) `civitas
#     trace code` accepts exactly what digital-link.js finds valid, and the
#     codes of the example's history are valid Digital Links;
#   - jsqr + pngjs: the PNG of `civitas trace qr` decodes to the node's
#     trace URL for the item.
# It runs examples/food_chain.sh with a kept work directory to get a real
# node's documents.
#
# CTest runs it as: bash test_trace_interop.sh /path/to/civitas
set -euo pipefail

CIVITAS=${1:?usage: test_trace_interop.sh /path/to/civitas}
CIVITAS=$(cd "$(dirname "$CIVITAS")" && pwd)/$(basename "$CIVITAS")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not installed: this test needs Node.js and npm"
if [ ! -f "$HERE/node_modules/epcis2.js/package.json" ] || [ ! -f "$HERE/node_modules/jsqr/package.json" ]; then
    echo "installing the cross-check packages from package-lock.json (npm ci --prefix $HERE)"
    npm ci --prefix "$HERE" --no-audit --no-fund >/dev/null || fail "npm ci failed in $HERE"
fi
echo "epcis2.js $(node -p "require('$HERE/node_modules/epcis2.js/package.json').version"), digital-link.js $(node -p "require('$HERE/node_modules/digital-link.js/package.json').version"), node $(node --version)"
check() { NODE_PATH="$HERE/node_modules" node "$HERE/trace_check.js" "$@"; }

T=$(mktemp -d "${TMPDIR:-/tmp}/cv-test-trace-XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "== the worked example on a real node"
bash "$HERE/../../examples/food_chain.sh" "$CIVITAS" "$T/work" > "$T/example.log" 2>&1 || {
    tail -20 "$T/example.log"; fail "examples/food_chain.sh failed"; }
for f in "$T"/work/docs/[0-9]*.jsonld; do
    "$CIVITAS" trace id "$f" > "${f%.jsonld}.ids" || fail "civitas trace id $f"
done

echo "== EPCIS 2.0 schema (epcis2.js)"
check validate "$T/work"
echo "== event hash IDs (epcis2.js)"
check ids "$T/work"

echo "== Digital Link codes (digital-link.js)"
node -e '
function cd(s){let t=0;for(let i=0;i<s.length;i++){t+=(+s[s.length-1-i])*(i%2?1:3);}return (10-t%10)%10;}
const r=(n)=>Array.from({length:n},()=>Math.floor(Math.random()*10)).join("");
const hosts=["https://id.gs1.org","https://brand.example.com/p","http://127.0.0.1:8645/trace"];
const out=[];
for(let i=0;i<400;i++){
  const len=[7,11,12,13][i%4], body=r(len), good=i%3!==0;
  const check=good?cd(body):(cd(body)+1+Math.floor(Math.random()*9))%10;
  const key=body+check, host=hosts[i%3];
  const q=[["", ""],["/21/S"+i,""],["/10/L"+i,""],["/10/L"+i+"/21/S"+i,""],["/21/S"+i+"/10/L"+i,""]][i%5][0];
  if(i%7===0){const s=r(16)+"7", ss=s.slice(0,17);out.push(host+"/00/"+ss+(good?cd(ss):(cd(ss)+5)%10));continue;}
  if(i%11===0){const g=r(12);out.push(host+"/414/"+g+(good?cd(g):(cd(g)+3)%10));continue;}
  out.push(host+"/01/"+key+q);
}
console.log(out.join("\n"));' > "$T/codes.txt"
while read -r code; do
    if "$CIVITAS" trace code "$code" >/dev/null 2>&1; then echo "$code accepted"; else echo "$code refused"; fi
done < "$T/codes.txt" > "$T/verdicts.txt"
check codes "$T/verdicts.txt"
jq -r '.codes[].code' "$T/work/out/history-bottle2.json" | sed 's/$/ accepted/' > "$T/history-codes.txt"
check codes "$T/history-codes.txt"

echo "== QR code (jsqr, pngjs)"
url=$(jq -r '.codes[0].code' "$T/work/out/history-bottle2.json" | sed 's#https://id.gs1.org/##')
rpc=$(sed -n 's/.*"rpc_listen": *"\([^"]*\)".*/\1/p' "$T/work/chain/org1/config.json")
check qr "$T/work/out/bottle2.png" "http://$rpc/trace/$url"

echo "trace interop: all checks passed"
