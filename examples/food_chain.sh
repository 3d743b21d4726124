#!/usr/bin/env bash
# food_chain.sh: the worked example of docs/TRACE.md, a food supply chain on
# a civitas consortium, scripted end to end with the CLI: a farm commissions
# two apple batches, ships one to a processor that presses it into bottled
# juice, packs the bottles into cases and ships them through a logistics
# company to a retailer; a regulator inspects the apple batch, finds it
# contaminated, asks the chain what it reached and recalls it all. Along the
# way it shows the rules refusing a wrong role, a non-custodian and a bad
# check digit, and an error declared instead of edited away.
#
#   bash examples/food_chain.sh [CIVITAS_BINARY] [WORK_DIR]
#
# WORK_DIR (default: a temporary directory, removed at the end) keeps the
# chain, the documents in docs/ and the query results in out/.
set -euo pipefail

CIVITAS=${1:-civitas}
WORK=${2:-}
KEEP=1
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/cv-food-XXXXXX"); KEEP=0; fi
mkdir -p "$WORK/docs" "$WORK/out"
PORT=$((20000 + RANDOM % 20000))
CHAIN="$WORK/chain"
RPC="127.0.0.1:$PORT"
NODE_PID=
cleanup() {
    if [ -n "$NODE_PID" ]; then kill "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; fi
    if [ "$KEEP" = 0 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
cv() { "$CIVITAS" "$@" --rpc "$RPC"; }
# expect_refusal TEXT CMD...: the command must fail with a message containing TEXT
expect_refusal() {
    local text=$1; shift
    local out
    if out=$("$@" 2>&1); then fail "accepted, expected a refusal with \"$text\": $*"; fi
    echo "$out" | grep -qF -- "$text" || fail "refused without \"$text\": $out"
    echo "refused as expected: $(echo "$out" | grep -F -- "$text" | head -1)"
}

# Product and location codes (GS1; check digits valid).
APPLES=09521234000013      # GTIN of apples, by the kilogram
JUICE=09521234000020       # GTIN of a bottle of apple juice
FARM=9521234000013 PROCESSOR=9521234000020 LOGISTICS=9521234000037 RETAILER=9521234000044 REGULATOR=9521234000051
LOT1="https://id.gs1.org/01/$APPLES/10/A-2024-07"
LOT2="https://id.gs1.org/01/$APPLES/10/A-2024-08"
bottle() { echo "https://brand.example.com/01/$JUICE/10/J-0701/21/B$1"; }
CASE1=https://id.gs1.org/00/095212340000000013
CASE2=https://id.gs1.org/00/095212340000000020

say "a consortium of five organisations: org1 farm (runs the validator), org2 processor, org3 logistics, org4 retailer, org5 regulator"
"$CIVITAS" init --orgs 5 --validators 1 --out "$CHAIN" --rpc-port "$PORT" --p2p-port $((PORT + 1)) >/dev/null
"$CIVITAS" node --home "$CHAIN/org1" > "$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 100); do cv status >/dev/null 2>&1 && break; sleep 0.1; done
cv status >/dev/null || fail "the node did not start (see $WORK/node.log)"

say "each organisation's admin takes the trace roles of its trade (gov.set_roles)"
set_roles() {
    local org=$1 roles=$2 addr
    addr=$("$CIVITAS" key show "$CHAIN/$org/admin.key" | sed -n 's/^address: *//p')
    cv send --key "$CHAIN/$org/admin.key" gov set_roles "{\"address\":\"$addr\",\"roles\":\"$roles\"}" >/dev/null
    echo "$org: $roles"
}
set_roles org1 admin,producer,logistics
set_roles org2 admin,processor,logistics
set_roles org3 admin,logistics
set_roles org4 admin,retailer
set_roles org5 admin,regulator,inspector

# doc FILE EVENT_JSON...: an EPCIS 2.0 JSON-LD document of the events
doc() {
    local file=$1; shift
    local events
    events=$(IFS=,; echo "$*")
    cat > "$WORK/docs/$file" <<JSON
{"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
 "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-07-01T00:00:00Z",
 "epcisBody": {"eventList": [$events]}}
JSON
    echo "$WORK/docs/$file"
}
at() { echo "\"eventTime\": \"2024-07-$1+08:00\", \"eventTimeZoneOffset\": \"+08:00\""; }
loc() { echo "\"readPoint\": {\"id\": \"https://id.gs1.org/414/$1\"}, \"bizLocation\": {\"id\": \"https://id.gs1.org/414/$1\"}"; }
parties() { echo "\"sourceList\": [{\"type\": \"owning_party\", \"source\": \"https://id.gs1.org/417/$1\"}], \"destinationList\": [{\"type\": \"owning_party\", \"destination\": \"https://id.gs1.org/417/$2\"}]"; }
record() { cv trace record "$1" --key "$CHAIN/$2/admin.key"; }

say "farm: commissions two batches of apples"
record "$(doc 01-harvest.jsonld "{\"type\": \"ObjectEvent\", $(at 01T06:00:00), \"action\": \"ADD\", \"bizStep\": \"commissioning\", \"disposition\": \"active\", $(loc $FARM),
  \"quantityList\": [{\"epcClass\": \"$LOT1\", \"quantity\": 500, \"uom\": \"KGM\"}, {\"epcClass\": \"$LOT2\", \"quantity\": 300, \"uom\": \"KGM\"}],
  \"ilmd\": {\"cbvmda:harvestStartDate\": \"2024-06-28\", \"cbvmda:countryOfOrigin\": \"CN\"}}")" org1

say "the rules: a retailer may not commission, and a bad check digit is refused before anything is signed"
expect_refusal "lacks the role producer or processor needed to record commissioning" \
    record "$(doc x-wrong-role.jsonld "{\"type\": \"ObjectEvent\", $(at 01T07:00:00), \"action\": \"ADD\", \"bizStep\": \"commissioning\", \"epcList\": [\"https://id.gs1.org/01/$JUICE/21/FAKE1\"]}")" org4
expect_refusal "has a bad check digit" \
    record "$(doc x-check-digit.jsonld "{\"type\": \"ObjectEvent\", $(at 01T07:00:00), \"action\": \"ADD\", \"bizStep\": \"commissioning\", \"epcList\": [\"https://id.gs1.org/01/09521234000014/21/X1\"]}")" org1

say "farm ships batch A-2024-07 to the processor, which receives it"
record "$(doc 02-ship-apples.jsonld "{\"type\": \"ObjectEvent\", $(at 02T08:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"shipping\", \"disposition\": \"in_transit\", $(loc $FARM),
  \"quantityList\": [{\"epcClass\": \"$LOT1\", \"quantity\": 500, \"uom\": \"KGM\"}], $(parties $FARM $PROCESSOR)}")" org1
expect_refusal "org3 is not the custodian" \
    record "$(doc x-not-custodian.jsonld "{\"type\": \"ObjectEvent\", $(at 02T09:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"shipping\", \"quantityList\": [{\"epcClass\": \"$LOT2\"}]}")" org3
record "$(doc 03-receive-apples.jsonld "{\"type\": \"ObjectEvent\", $(at 02T15:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"receiving\", \"disposition\": \"active\", $(loc $PROCESSOR),
  \"quantityList\": [{\"epcClass\": \"$LOT1\", \"quantity\": 500, \"uom\": \"KGM\"}], $(parties $FARM $PROCESSOR)}")" org2

say "processor presses the apples into four bottles of juice (batch J-0701) and packs them into two cases"
record "$(doc 04-press.jsonld "{\"type\": \"TransformationEvent\", $(at 03T10:00:00), \"bizStep\": \"commissioning\", \"disposition\": \"active\", $(loc $PROCESSOR),
  \"inputQuantityList\": [{\"epcClass\": \"$LOT1\", \"quantity\": 12.5, \"uom\": \"KGM\"}],
  \"outputEPCList\": [\"$(bottle 1)\", \"$(bottle 2)\", \"$(bottle 3)\", \"$(bottle 4)\"], \"transformationID\": \"urn:example:press-run-a\",
  \"ilmd\": {\"cbvmda:bestBeforeDate\": \"2025-07-03\"}}")" org2
record "$(doc 05-pack.jsonld "{\"type\": \"AggregationEvent\", $(at 03T11:00:00), \"action\": \"ADD\", \"bizStep\": \"packing\", $(loc $PROCESSOR), \"parentID\": \"$CASE1\", \"childEPCs\": [\"$(bottle 1)\", \"$(bottle 2)\"]}" \
  "{\"type\": \"AggregationEvent\", $(at 03T11:05:00), \"action\": \"ADD\", \"bizStep\": \"packing\", $(loc $PROCESSOR), \"parentID\": \"$CASE2\", \"childEPCs\": [\"$(bottle 3)\", \"$(bottle 4)\"]}")" org2

say "processor ships the cases; logistics receives them, ships them on; the retailer receives them"
ship_cases() { # FILE STEP DAY ORG FROM TO
    record "$(doc "$1" "{\"type\": \"ObjectEvent\", $(at "$3"), \"action\": \"OBSERVE\", \"bizStep\": \"$2\", $(loc "$5"), \"epcList\": [\"$CASE1\", \"$CASE2\"], $(parties "$5" "$6")}")" "$4"
}
ship_cases 06-ship-cases.jsonld shipping 04T08:00:00 org2 $PROCESSOR $LOGISTICS
expect_refusal "is in transit: it must be received first" ship_cases x-reship.jsonld shipping 04T08:30:00 org2 $PROCESSOR $LOGISTICS
ship_cases 07-receive-cases.jsonld receiving 04T12:00:00 org3 $PROCESSOR $LOGISTICS
ship_cases 08-ship-retail.jsonld shipping 05T07:00:00 org3 $LOGISTICS $RETAILER
ship_cases 09-receive-retail.jsonld receiving 05T11:00:00 org4 $LOGISTICS $RETAILER

say "retailer unpacks case 1 and sells bottle 1"
record "$(doc 10-unpack.jsonld "{\"type\": \"AggregationEvent\", $(at 05T12:00:00), \"action\": \"DELETE\", \"bizStep\": \"unpacking\", $(loc $RETAILER), \"parentID\": \"$CASE1\", \"childEPCs\": [\"$(bottle 1)\", \"$(bottle 2)\"]}")" org4
record "$(doc 11-sell.jsonld "{\"type\": \"ObjectEvent\", $(at 06T09:30:00), \"action\": \"OBSERVE\", \"bizStep\": \"retail_selling\", \"disposition\": \"retail_sold\", $(loc $RETAILER), \"epcList\": [\"$(bottle 1)\"]}")" org4

say "retailer mistakenly records stocking bottle 3 at the wrong store, and declares the error (never edited away)"
STOCK="{\"type\": \"ObjectEvent\", $(at 06T10:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"stocking\", $(loc $LOGISTICS), \"epcList\": [\"$(bottle 3)\"]}"
record "$(doc 12-stock-wrong.jsonld "$STOCK")" org4
record "$(doc 13-error.jsonld "${STOCK%\}}, \"errorDeclaration\": {\"declarationTime\": \"2024-07-06T11:00:00+08:00\", \"reason\": \"incorrect_data\"}}")" org4

say "the consumer's view of bottle 2: its history, upstream to the farm's harvest"
cv trace history "$(bottle 2)" > "$WORK/out/history-bottle2.json"
jq -r '.codes[] | "\(.relation)\t\(.code)"' "$WORK/out/history-bottle2.json"
jq -e '[.events[].biz_step] | index("commissioning") != null and index("shipping") != null and index("receiving") != null' \
    "$WORK/out/history-bottle2.json" >/dev/null || fail "bottle 2's history lacks its upstream steps"
jq -e --arg lot "$LOT1" '[.codes[].code] | index($lot) != null' "$WORK/out/history-bottle2.json" >/dev/null ||
    fail "bottle 2's history does not reach apple batch A-2024-07"
jq -e 'all(.events[]; .proof.block_hash != null and (.document.epcisBody.eventList | length) == 1)' \
    "$WORK/out/history-bottle2.json" >/dev/null || fail "history events lack their proofs or documents"
"$CIVITAS" trace qr "$(bottle 2)" -o "$WORK/out/bottle2.png" --rpc "$RPC"

say "regulator inspects batch A-2024-07 and asks what it reached"
record "$(doc 14-inspect.jsonld "{\"type\": \"ObjectEvent\", $(at 07T09:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"inspecting\", \"disposition\": \"non_conformant\", $(loc $PROCESSOR), \"quantityList\": [{\"epcClass\": \"$LOT1\"}]}")" org5
cv trace recall-impact "$LOT1" --no-documents > "$WORK/out/impact-lot1.json"
jq -r '.codes[] | "\(.relation)\t\(.code)\t\(.custodian)\t\(.status)"' "$WORK/out/impact-lot1.json"
for n in 1 2 3 4; do
    jq -e --arg b "https://id.gs1.org/01/$JUICE/21/B$n" '[.codes[].code] | index($b) != null' "$WORK/out/impact-lot1.json" >/dev/null ||
        fail "the recall impact misses bottle $n"
done
jq -e --arg lot "$LOT2" '[.codes[].code] | index($lot) == null' "$WORK/out/impact-lot1.json" >/dev/null ||
    fail "the recall impact reaches batch A-2024-08, which was never pressed"

say "regulator recalls the batch and every bottle made from it; the retailer can no longer sell them"
AFFECTED=$(jq -c '[.codes[] | select(.relation != "container") | .code]' "$WORK/out/impact-lot1.json")
record "$(doc 15-recall.jsonld "{\"type\": \"ObjectEvent\", $(at 07T12:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"holding\", \"disposition\": \"recalled\", $(loc $REGULATOR),
  \"epcList\": $(jq -c '[.[] | select(contains("/21/"))]' <<<"$AFFECTED"), \"quantityList\": [{\"epcClass\": \"$LOT1\"}]}")" org5
expect_refusal "is recalled" \
    record "$(doc x-sell-recalled.jsonld "{\"type\": \"ObjectEvent\", $(at 07T13:00:00), \"action\": \"OBSERVE\", \"bizStep\": \"retail_selling\", \"epcList\": [\"$(bottle 2)\"]}")" org4
cv trace history "$(bottle 2)" --no-documents > "$WORK/out/history-bottle2-recalled.json"
jq -e '.codes[0].recalled == true' "$WORK/out/history-bottle2-recalled.json" >/dev/null || fail "bottle 2 is not shown recalled"

say "food chain example: all steps done"
