#!/usr/bin/env bash
# test_food_chain.sh: runs the worked example of docs/TRACE.md
# (examples/food_chain.sh) against a real node, so that it stays true: it
# checks its own steps (refusals, history, recall impact) and exits non-zero
# on the first that does not hold.
#
# CTest runs it as: bash test_food_chain.sh /path/to/civitas
set -euo pipefail
CIVITAS=${1:?usage: test_food_chain.sh /path/to/civitas}
CIVITAS=$(cd "$(dirname "$CIVITAS")" && pwd)/$(basename "$CIVITAS")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$HERE/../../examples/food_chain.sh" "$CIVITAS"
echo "food chain example: passed"
