#!/usr/bin/env bash
# The README's default training, timed from a fresh machine's point of view: an empty
# dataset cache (so the data build is included), then `recursia eval` on the held-out split.
#
#     bash benchmarks/small_preset.sh [RUN_DIR]
set -euo pipefail
out="${1:-runs/bench-small-$(date +%Y%m%d-%H%M%S)}"
RECURSIA_CACHE="$(mktemp -d)"                # no cached dataset: the build is timed
TORCHINDUCTOR_CACHE_DIR="$(mktemp -d)"        # no cached compiled kernels either
export RECURSIA_CACHE TORCHINDUCTOR_CACHE_DIR
start=$(date +%s)
recursia train --task sudoku --mixer mlp --no-progress --out "$out"
end=$(date +%s)
echo "wall time of recursia train (data build included): $((end - start)) s"
recursia eval "$out"
python - "$out/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("learning curve (EMA weights, test split):")
for r in rows:
    if "test_exact_acc" in r:
        tag = "final, all test puzzles" if r.get("final") else f"{r['test_examples']} test puzzles"
        print(f"  step {r['step']:5d}: exact {r['test_exact_acc']:.1%}  cells {r['test_cell_acc']:.1%}  ({tag})")
PY
rm -rf "$RECURSIA_CACHE" "$TORCHINDUCTOR_CACHE_DIR"
