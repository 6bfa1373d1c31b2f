#!/usr/bin/env bash
# Installs the Debian 12 packages Switchboard builds and tests with, if any
# are missing. Usage: scripts/deps.sh [--test]   (--test adds test tools)
set -euo pipefail

packages=(build-essential cmake pkg-config libmicrohttpd-dev liblua5.4-dev libsqlite3-dev
  libpcre2-dev libjansson-dev libssl-dev libyaml-dev libcmark-dev libstemmer-dev curl
  libcurl4-openssl-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(libcmocka-dev python3 clang-format chromium)
  # The browser tests run on node (playwright-core from npm, tests/browser);
  # a node installed another way is fine.
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "scripts/deps.sh: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
