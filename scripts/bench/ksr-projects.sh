#!/usr/bin/env bash
# Keystroke savings on real projects, "train on your workspace, type in a new file of it": for each
# project, `nextword train --split 0.1` holds out 10 % of its files (deterministic, by path), trains on the
# rest with the extension's preset and time budget (as Train on Workspace does), then `nextword eval
# --compare` types the held-out files with the model as served (the mixture), the network with the cache,
# the n-gram companion with the cache (served while training), an interpolated modified Kneser-Ney 4-gram
# and VS Code-style word-frequency completion, the baselines trained on the same (not held-out) files; and
# scores them with the bundled default model, what the user had before training.
#
# Projects (Debian packages on this machine, and npm packages this repository installs; nothing here
# tuned anything):
#   nodejs-docs     documentation with code listings: the Node.js docs, Markdown (Debian's nodejs):
#                   /usr/share/doc/nodejs/api/*.md, contributing/**/*.md, *.md
#   python-stdlib   a Python codebase over 3 MB: the Python 3.11 standard library's top-level modules
#                   (Debian's libpython3.11-minimal and -stdlib): /usr/lib/python3.11/*.py
#   msal            a TypeScript codebase: Microsoft's authentication library, the sources of
#                   @azure/msal-common and @azure/msal-node (npm, installed by npm ci for @vscode/vsce)
#   ajv             a TypeScript codebase: the JSON schema validator's lib/**/*.ts (npm, for @vscode/vsce)
#   npm-cli         prose and code mixed: npm's own lib/**/*.js and docs/content/**/*.md (Debian's npm)
#   commander       a project under 0.3 MB: the commander package (npm): its JavaScript, typings and README
#
# Usage: scripts/bench/ksr-projects.sh [OUT=runs/ksr] [PRESET=small] [BUDGET_SECONDS=600] [KSR_CHARS=20000] [project…]
# TRAIN_FLAGS in the environment adds flags to `nextword train` (e.g. TRAIN_FLAGS="--samples 0 --batch 20").
# Writes OUT/<project>/{train.jsonl,eval.json,held-out.txt} and prints one summary line per project.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-runs/ksr}"
preset="${2:-small}"
budget="${3:-600}"
ksr_chars="${4:-20000}"
shift $(( $# < 4 ? $# : 4 ))
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(nodejs-docs python-stdlib)

assemble() { # project dir
  rm -rf "$2" && mkdir -p "$2"
  local to
  to="$(cd "$2" && pwd)"
  # Copies the files under $1 that `find $1 <tests>` selects into $to/$2, keeping their paths.
  take() { (cd "$1" && find . "${@:3}" -type f -print0 | while IFS= read -r -d '' f; do mkdir -p "$to/$2/$(dirname "$f")" && cp "$f" "$to/$2/$f"; done); }
  case "$1" in
    nodejs-docs)
      cp /usr/share/doc/nodejs/*.md "$to/"
      take /usr/share/doc/nodejs/api api -maxdepth 1 -name '*.md'
      take /usr/share/doc/nodejs/contributing contributing -name '*.md' ;;
    python-stdlib)
      cp /usr/lib/python3.11/*.py "$to/" ;;
    msal)
      take node_modules/@azure/msal-common/src msal-common
      take node_modules/@azure/msal-node/src msal-node ;;
    ajv)
      take node_modules/ajv/lib lib -name '*.ts' ! -name '*.d.ts' ;;
    npm-cli)
      take /usr/lib/node_modules/npm/lib lib
      take /usr/lib/node_modules/npm/docs/content docs ;;
    commander)
      take node_modules/commander . -path ./node_modules -prune -o \( -name '*.js' -o -name '*.mjs' -o -name '*.ts' -o -name '*.md' \) ;;
    *) echo "unknown project $1" >&2; exit 2 ;;
  esac
}

for p in "${projects[@]}"; do
  dir="$out/$p"
  data="$dir/data"
  assemble "$p" "$data"
  node bin/nextword.js train "$data" --preset "$preset" --time-budget "$budget" --split 0.1 --split-list "$dir/held-out.txt" \
    --ksr-chars "$ksr_chars" --out "$dir/model" ${TRAIN_FLAGS:-} --json > "$dir/train.jsonl"
  # The held-out files, and the rest for the baselines, as two folders.
  rm -rf "$dir/held-out" "$dir/rest" && cp -r "$data" "$dir/rest" && mkdir -p "$dir/held-out"
  while IFS= read -r f; do
    mkdir -p "$dir/held-out/$(dirname "$f")" && mv "$dir/rest/$f" "$dir/held-out/$f"
  done < "$dir/held-out.txt"
  node bin/nextword.js eval --model "$dir/model" --compare --train "$dir/rest" --ksr-chars "$ksr_chars" "$dir/held-out" --json > "$dir/eval.json"
  # What the user had before training: the bundled model (its own vocabulary: compare with its OOV share).
  node bin/nextword.js eval --model models/default "$dir/held-out" --no-ksr --json > "$dir/eval-default.json"
  node -e '
    const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const t = require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse);
    const fin = t.at(-1), start = t[0];
    const f = (m) => `${m}: ppl ${e[m].ppl.toFixed(1)}, top-1 ${(e[m].top1 * 100).toFixed(1)} %, ksr ${(e[m].ksr * 100).toFixed(1)} %, accept ${(e[m].accept_rate * 100).toFixed(1)} %, p99 ${e[m].latency_p99_ms} ms`;
    console.log(`${process.argv[3]}: ${fin.heldout.files} held-out files, ${e.model.tokens} tokens (${e.model.chars} characters typed); trained on ${start.trainTokens} tokens in ${fin.seconds.toFixed(0)} s, ${fin.epochs} epochs, stopped by ${fin.stopped_by} (valid ppl ${fin.valid_ppl})`);
    console.log("  " + ["model", "network", "companion", "ngram", "wordfreq"].filter((m) => e[m]).map(f).join("\n  "));
    const d = JSON.parse(require("fs").readFileSync(process.argv[4], "utf8"));
    console.log(`  bundled default model: ppl ${d.ppl.toFixed(1)}, oov ${(d.oov / d.tokens * 100).toFixed(1)} % of ${d.tokens} tokens (the model: oov ${(e.model.oov / e.model.tokens * 100).toFixed(1)} %)`);
    console.log(`  ksr model / companion ${(e.model.ksr / e.companion.ksr).toFixed(2)}x, / wordfreq ${(e.model.ksr / e.wordfreq.ksr).toFixed(2)}x; ppl model / ngram ${(e.model.ppl / e.ngram.ppl).toFixed(2)}`);
  ' "$dir/eval.json" "$dir/train.jsonl" "$p" "$dir/eval-default.json"
done
