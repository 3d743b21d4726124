#!/usr/bin/env bash
# Installs the Debian 12 packages civitas needs to build, test and run.
# Idempotent; run as root or with sudo available.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev valgrind openssl
  libsodium-dev libssl-dev liblmdb-dev libuv1-dev libmicrohttpd-dev libjansson-dev
  libqrencode-dev libpng-dev libsqlite3-dev curl ca-certificates jq
)
# Node.js and npm run the cross-checks against independent implementations;
# keep a Node.js that is already installed (it may not come from Debian).
if ! command -v node >/dev/null 2>&1; then PACKAGES+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: all Debian packages present"
