#!/usr/bin/env bash
# Runs the whole civitas test suite:
#   1. Release build (gcc), CTest: unit, shell, interop and end-to-end tests,
#      and every unit test again under valgrind memcheck (label valgrind);
#   2. sanitizer build (clang, AddressSanitizer + UndefinedBehaviorSanitizer),
#      CTest again, plus every libFuzzer target for CV_FUZZ_SECONDS each.
# Stops at the first failing stage, so the last CTest summary printed is the
# verdict.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/deps.sh
if [ -f tests/interop/package-lock.json ]; then
  echo "== npm ci (independent implementations for cross-checks)"
  npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
fi

echo "== Release build"
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DCV_VALGRIND=ON >/dev/null
cmake --build build/release -j"$jobs"

echo "== sanitizer build (clang, ASan + UBSan, libFuzzer)"
CC=clang cmake -S . -B build/sanitize -DCMAKE_BUILD_TYPE=Debug -DCV_SANITIZE=ON -DCV_FUZZ=ON \
  -DCV_FUZZ_SECONDS="${CV_FUZZ_SECONDS:-60}" >/dev/null
cmake --build build/sanitize -j"$jobs"

echo "== CTest, Release build"
(cd build/release && ctest --output-on-failure -j"$jobs")

echo "== CTest, sanitizer build"
(cd build/sanitize && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs")
