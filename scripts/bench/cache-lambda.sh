#!/usr/bin/env bash
# The document cache's λ on validation files: for each project trained by ksr-projects.sh (OUT/<project>/
# model and data), copies its validation files (scripts/bench/validation-files.ts) and scores them at
# several λ (perplexity), typing the first KSR_CHARS characters of each at a few (keystroke savings).
# Usage: scripts/bench/cache-lambda.sh [OUT=runs/ksr] [KSR_CHARS=5000] [project…]
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-runs/ksr}"
ksr_chars="${2:-5000}"
shift $(( $# < 2 ? $# : 2 ))
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(python-stdlib nodejs-docs)
figure() { node -e 'const o = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(`ppl ${o.ppl.toFixed(3)}` + (o.ksr !== undefined ? `, ksr ${(o.ksr * 100).toFixed(2)} %` : "") + `, ${o.tokens} tokens`)'; }
for p in "${projects[@]}"; do
  valid="$out/$p/valid"
  rm -rf "$valid"
  node --import tsx scripts/bench/validation-files.ts "$out/$p/data" "$valid" | cut -c1-120
  echo "$p lambda 0: $(node bin/nextword.js eval --model "$out/$p/model" "$valid" --no-cache --no-ksr --json | figure)"
  for l in 0.05 0.1 0.2; do
    echo "$p lambda $l: $(node bin/nextword.js eval --model "$out/$p/model" "$valid" --cache-lambda "$l" --ksr-chars "$ksr_chars" --json | figure)"
  done
  echo "$p lambda 0.3: $(node bin/nextword.js eval --model "$out/$p/model" "$valid" --cache-lambda 0.3 --no-ksr --json | figure)"
done
