#!/usr/bin/env bash
# Training throughput of Nextword's ONNX training step against the PyTorch reference trainer
# (../shared/bench/torch_lm.py), same configuration (PTB, 2 layers × 200, embed 200, batch 20, bptt 20,
# untied, no dropout, SGD with clipping), same machine, run alternately so both see the same conditions.
# Needs: apt-get install -y python3-torch libopenblas0-pthread
# Usage: scripts/bench/train-vs-torch.sh [ROUNDS=3] [SHARED=../shared]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
shared="${2:-../shared}"
ptb="$shared/corpora/ptb"
[ -f "$ptb/train.txt" ] || { echo "no Penn Treebank at $ptb" >&2; exit 2; }
ours=()
torch=()
for r in $(seq 1 "$rounds"); do
  o=$(node bin/nextword.js bench train "$ptb" --preset ptb-small --batches 150 --threads 2 --json | tail -1)
  ours+=("$(node -e 'console.log(JSON.parse(process.argv[1]).tokens_per_s)' "$o")")
  t=$(OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$shared/bench/torch_lm.py" --data "$ptb" --epochs 1 --max-batches 300 --threads 2 \
      --emsize 200 --nhid 200 --nlayers 2 --bptt 20 --batch 20 --dropout 0 | grep '"epoch"')
  torch+=("$(node -e 'console.log(JSON.parse(process.argv[1]).train_tok_per_s)' "$t")")
  echo "round $r: nextword ${ours[-1]} tok/s, pytorch ${torch[-1]} tok/s" >&2
  [ "$r" = 1 ] && echo "nextword step detail: $o" >&2
done
node -e '
const med = (xs) => { const s = xs.map(Number).sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const ours = process.argv[1].split(" "), torch = process.argv[2].split(" ");
const r = { nextword_tokens_per_s: med(ours), pytorch_tokens_per_s: med(torch), ratio: +(med(ours) / med(torch)).toFixed(2), rounds: ours.length, nextword_runs: ours.map(Number), pytorch_runs: torch.map(Number) };
console.log(JSON.stringify(r));
' "${ours[*]}" "${torch[*]}"
