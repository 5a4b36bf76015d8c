#!/usr/bin/env bash
# A task's default CPU training (the `small` preset), timed from a fresh machine's point of
# view: an empty dataset cache (so the data build is included) and an empty compiled-kernel
# cache, then `recursia eval` on the held-out split and the learning curve.
#
#     bash benchmarks/small_preset.sh [TASK [MIXER [RUN_DIR [TRAIN OPTIONS...]]]]   # default: sudoku mlp
#
# Further arguments go to recursia train (e.g. --set train.steps=2000).
set -euo pipefail
task="${1:-sudoku}"
mixer="${2:-mlp}"
out="${3:-runs/bench-small-$task-$mixer-$(date +%Y%m%d-%H%M%S)}"
shift $(( $# < 3 ? $# : 3 ))
RECURSIA_CACHE="$(mktemp -d)"                # no cached dataset: the build is timed
TORCHINDUCTOR_CACHE_DIR="$(mktemp -d)"        # no cached compiled kernels either
export RECURSIA_CACHE TORCHINDUCTOR_CACHE_DIR
start=$(date +%s)
recursia train --task "$task" --mixer "$mixer" --no-progress --out "$out" "$@"
end=$(date +%s)
echo "wall time of recursia train (data build included): $((end - start)) s"
recursia eval "$out"
python - "$out/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
last = [r for r in rows if r.get("halted")][-10:]  # the last logged training steps in which slots halted
if last:
    exact = sum(r["halted_exact_acc"] * r["halted"] for r in last) / sum(r["halted"] for r in last)
    print(f"training pairs: {exact:.1%} exact among the examples that halted in the last {len(last)} logging "
          f"windows ({sum(r['halted'] for r in last) / len(last):.1f} per step; raw weights, as trained)")
print("learning curve (EMA weights, test split):")
for r in rows:
    if "test_exact_acc" in r:
        tag = "final, all test puzzles" if r.get("final") else f"{r['test_examples']} test puzzles"
        valid = f"valid {r['test_valid']:.1%}  " if "test_valid" in r else ""  # tasks with a checker
        print(f"  step {r['step']:5d}: exact {r['test_exact_acc']:.1%}  cells {r['test_cell_acc']:.1%}  "
              f"{valid}({tag})")
PY
rm -rf "$RECURSIA_CACHE" "$TORCHINDUCTOR_CACHE_DIR"
