#!/usr/bin/env bash
# GPU smoke check: recursia's CUDA path end to end, in minutes, on the first machine with a GPU
# (these development machines have none, so this has not run yet: run it and record the output
# in docs/benchmarks.md).
#
#     bash benchmarks/gpu_smoke.sh [STEPS]        # default 300
#
# 1. the CUDA-only tests (tests/test_cuda.py: CUDA against CPU in float32, bf16 autocast,
#    torch.compile, the pinned host copies);
# 2. the Sudoku paper preset (MLP; bf16 autocast with fp32 master weights) for STEPS optimizer
#    steps on one GPU, eager and then compiled; each prints steps/s, samples/s (window means of
#    the last logged steps) and the peak GPU memory from its metrics.jsonl;
# 3. with two or more GPUs: the same on every GPU of the machine through --nproc (torchrun, NCCL);
# 4. recursia eval of the eager run (streamed, accuracy per supervision step), and that run
#    resumed for 20 more steps.
# The data: a small generated 9x9 set (256 puzzles x 8 augmentations) in a temporary cache, so
# nothing is downloaded; the accuracies printed are a few hundred steps in and mean nothing.
set -euo pipefail
steps="${1:-300}"
python -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA GPU: nothing to check')"
work="$(mktemp -d)"
export RECURSIA_CACHE="$work/cache"
cd "$(dirname "$0")/.."
python -m pytest -q tests/test_cuda.py
DATA=(--set data.train_size=256 --set data.test_size=256 --set data.aug=8)
COMMON=(--task sudoku --preset paper --mixer mlp --device cuda --steps "$steps" --no-progress
        --set train.log_every=50 --set train.eval_every=0 --set train.eval_limit=256 "${DATA[@]}")
report() {  # the last logged training record of a run, and its exit code's verdict
    python - "$1/metrics.jsonl" "$2" <<'PY'
import json, math, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
last = [r for r in rows if "loss" in r][-1]
assert math.isfinite(last["loss"]), f"non-finite loss {last['loss']}"
print(f"{sys.argv[2]}: step {last['step']}: {last['steps_per_s']:.2f} steps/s, {last['samples_per_s']:.0f} samples/s, "
      f"peak GPU memory {last.get('max_memory_gib', float('nan')):.2f} GiB (rank 0), loss {last['loss']:.4f}")
PY
}
recursia train "${COMMON[@]}" --out "$work/eager"
report "$work/eager" "eager, 1 GPU"
recursia train "${COMMON[@]}" --out "$work/compiled" --set train.compile=true
report "$work/compiled" "compiled, 1 GPU"
gpus="$(python -c 'import torch; print(torch.cuda.device_count())')"
if [ "$gpus" -ge 2 ]; then
    recursia train "${COMMON[@]}" --out "$work/ddp" --nproc "$gpus" --set train.batch_size=$((768 / gpus * gpus))
    report "$work/ddp" "eager, $gpus GPUs"
fi
recursia eval "$work/eager" --device cuda --no-progress
recursia train --out "$work/eager" --steps "$((steps + 20))" --no-progress
report "$work/eager" "eager, resumed"
echo "gpu smoke: all checks passed ($work)"
