#!/usr/bin/env bash
# bench/node.sh: single-node throughput and commit latency of notary.stamp,
# for both suites, beside this machine's own signature-verify rate measured
# in the same run (by bench_load). For each suite: a fresh node, RUNS runs at
# full speed, then RUNS runs offered at half the machine's all-core verify
# rate. Prints one RESULT line per run and a markdown summary of medians.
#
#   bench/node.sh [BUILD_DIR] [TXS] [RUNS]     (defaults: build/release 40000 3)
set -euo pipefail
build=${1:-build/release}
txs=${2:-40000}
runs=${3:-3}
civitas=$build/civitas
load=$build/bench/bench_load
work=$(mktemp -d /tmp/cv-bench-XXXXXX)
trap 'pkill -f "civitas node --home $work" 2>/dev/null || true; rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }

summary=""
for suite in std gm; do
  home=$work/$suite
  port=$((18800 + RANDOM % 1000))
  "$civitas" init --home "$home" --suite "$suite" --rpc-port "$port" >/dev/null
  "$civitas" node --home "$home" >"$work/$suite.log" 2>&1 &
  sleep 1
  n=$txs
  [ "$suite" = gm ] && n=$((txs / 4))
  echo "== $suite: $runs runs at full speed, $n transactions each" >&2
  : >"$work/full.$suite"
  for i in $(seq "$runs"); do
    "$load" --home "$home" --txs "$n" --conns 4 --batch 500 2>/dev/null | grep RESULT | tee -a "$work/full.$suite"
  done
  bound=$(field verify_all <"$work/full.$suite" | median)
  half=$(awk -v b="$bound" 'BEGIN {printf "%d", b / 2}')
  echo "== $suite: $runs runs offered at half the verify bound ($half tx/s)" >&2
  : >"$work/half.$suite"
  for i in $(seq "$runs"); do
    "$load" --home "$home" --txs "$n" --conns 4 --batch 100 --rate "$half" 2>/dev/null | grep RESULT |
      tee -a "$work/half.$suite"
  done
  pkill -f "civitas node --home $home" || true
  wait 2>/dev/null || true
  summary+="| $suite | $(field verify_all <"$work/full.$suite" | median) | $(field tps <"$work/full.$suite" | median)"
  summary+=" | $(field ratio <"$work/full.$suite" | median) | $(field p50_ms <"$work/full.$suite" | median)"
  summary+=" | $(field p99_ms <"$work/full.$suite" | median) | $half | $(field tps <"$work/half.$suite" | median)"
  summary+=" | $(field p50_ms <"$work/half.$suite" | median) | $(field p99_ms <"$work/half.$suite" | median) |"$'\n'
done
echo
echo "| suite | verify bound (tx/s, all cores) | committed tx/s | node / bound | p50 ms | p99 ms | offered at half (tx/s) | committed tx/s | p50 ms | p99 ms |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf "%s" "$summary"
