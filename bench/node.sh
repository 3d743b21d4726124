#!/usr/bin/env bash
# bench/node.sh: throughput and commit latency of notary.stamp on one node
# or on a network of NODES validators on this machine, for both suites,
# beside this machine's own signature-verify rate measured in the same run
# (by bench_load). The bound is that rate on all cores divided by NODES:
# every validator verifies every transaction once. For each suite: a fresh
# chain, RUNS runs at full speed, then RUNS runs offered at half the bound.
# Prints one RESULT line per run and a markdown summary of medians.
#
# Transactions go in binary batches (POST /txs); ENCODING json sends them as
# JSON-RPC tx_send_batch requests with hex transactions instead.
#
# After the table, one line per suite gives the node's store commit time per
# block (median and 90th percentile of its log's "stored in" lines): the
# part of a block's latency spent writing it (BFT: after it was decided).
#
# The chains live in a new directory under $CV_BENCH_DIR (default /tmp).
#
#   bench/node.sh [BUILD_DIR] [TXS] [RUNS] [NODES] [ENCODING]   (defaults: build/release 40000 3 1 binary)
set -euo pipefail
build=${1:-build/release}
txs=${2:-40000}
runs=${3:-3}
nodes=${4:-1}
encoding=${5:-binary}
json_flag=""
if [ "$encoding" = json ]; then json_flag="--json"; fi
civitas=$build/civitas
load=$build/bench/bench_load
work=$(mktemp -d "${CV_BENCH_DIR:-/tmp}/cv-bench-XXXXXX")
trap 'pkill -f "civitas node --home $work" 2>/dev/null || true; pkill -f "node --home $work" 2>/dev/null || true; rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

summary=""
stores=""
# The median and 90th percentile of "stored in N ms" in a node's log.
store_times() {
  sed -n 's/.*stored in \([0-9]*\) ms.*/\1/p' "$1" | sort -n |
    awk '{a[NR]=$1} END {k = int(NR * 0.9); if (k < 1) k = 1; if (NR) printf "median %d ms, p90 %d ms over %d blocks", a[int((NR+1)/2)], a[k], NR}'
}
for suite in std gm; do
  port=$((18800 + RANDOM % 1000))
  if [ "$nodes" = 1 ]; then
    home=$work/$suite
    "$civitas" init --home "$home" --suite "$suite" --rpc-port "$port" >/dev/null
    "$civitas" node --home "$home" >"$work/$suite.log" 2>&1 &
  else
    "$civitas" net up "$nodes" --home "$work/$suite" --suite "$suite" --rpc-port "$port" \
      --p2p-port $((port + 1000)) >/dev/null
    home=$work/$suite/org1
  fi
  sleep 1
  n=$txs
  echo "== $suite: $runs runs at full speed, $n transactions each" >&2
  : >"$work/full.$suite"
  for i in $(seq "$runs"); do
    "$load" --home "$home" --txs "$n" --conns 4 --batch 500 $json_flag 2>/dev/null | grep RESULT | tee -a "$work/full.$suite"
  done
  bound=$(field verify_all <"$work/full.$suite" | median | awk -v n="$nodes" '{printf "%d", $1 / n}')
  half=$(awk -v b="$bound" 'BEGIN {printf "%d", b / 2}')
  echo "== $suite: $runs runs offered at half the verify bound ($half tx/s)" >&2
  : >"$work/half.$suite"
  for i in $(seq "$runs"); do
    "$load" --home "$home" --txs "$n" --conns 4 --batch 100 --rate "$half" $json_flag 2>/dev/null | grep RESULT |
      tee -a "$work/half.$suite"
  done
  if [ "$nodes" = 1 ]; then pkill -f "civitas node --home $home" || true; else "$civitas" net down --home "$work/$suite" >/dev/null; fi
  wait 2>/dev/null || true
  if [ "$nodes" = 1 ]; then log=$work/$suite.log; else log=$home/node.log; fi
  stores+="$suite: store commit per block: $(store_times "$log")"$'\n'
  tps=$(field tps <"$work/full.$suite" | median)
  summary+="| $suite | $nodes | $bound | $tps | $(awk -v t="$tps" -v b="$bound" 'BEGIN {printf "%.2f", t / b}')"
  summary+=" | $(field p50_ms <"$work/full.$suite" | median)"
  summary+=" | $(field p99_ms <"$work/full.$suite" | median) | $half | $(field tps <"$work/half.$suite" | median)"
  summary+=" | $(field p50_ms <"$work/half.$suite" | median) | $(field p99_ms <"$work/half.$suite" | median) |"$'\n'
done
echo
echo "| suite | validators | bound (tx/s) | committed tx/s | / bound | p50 ms | p99 ms | offered at half (tx/s) | committed tx/s | p50 ms | p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf "%s" "$summary"
echo
printf "%s" "$stores"
