"""ARC at full scale: training memory at the paper shape with the full puzzle-embedding
table, and the time of voting over the whole test split.

    python benchmarks/arc_scale.py DATA_DIR [--batch 4 8 16] [--no-vote]

DATA_DIR is a full ARC build (``recursia data build arc --out DATA_DIR --set arc1 --aug
1000``: ~730k puzzle identifiers). For each batch size, a fresh process makes the
``paper`` preset's trainer on it (attention, D 512, 2 layers, T 3, n 4, seq 900 + 16;
fp32 on CPU, eager), runs one training step, writes a checkpoint and builds the
evaluation copy, printing the resident memory (VmRSS) after each stage and the peak
(VmHWM). The activation memory per sample is the slope of the step's peak over the
batch sizes; the table alone is ``num_ids x 512 x 4`` bytes. RSS includes the pages of
the memory-mapped splits that were read (file-backed, dropped by the kernel under
pressure: the token check at start reads every page once); ``RssAnon`` is the
process's own memory.

Voting: the test split's stored labels are given as the predictions of a perfect model
and voted (:func:`recursia.vote.vote`: crop at the EOS border, invert every version's
recorded augmentation, count, rank); the time and peak memory are printed, and pass@1
must be 1.0, which checks at full scale that every recorded augmentation inverts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from machine_info import machine

CHILD = r"""
import json, sys, tempfile, time, torch
from pathlib import Path
from recursia.cli.train import resolve_config
from recursia.train.loop import Trainer
from recursia.train.settings import training_settings

def rss():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {k: int(fields[k].split()[0]) / 2**20 for k in ("VmRSS", "VmHWM", "RssAnon", "RssFile")}  # GiB

data, batch = sys.argv[1], int(sys.argv[2])
cfg = resolve_config("arc", None, "paper", None, [f"train.batch_size={batch}", "train.compile=false"], None, "cpu")
out = {"batch": batch, "start": rss()}
with training_settings(cfg, "cpu"), tempfile.TemporaryDirectory() as run:
    tr = Trainer(cfg, Path(run), Path(data), "cpu")
    table = tr.model.embed.puzzle.weight
    out |= {"num_ids": table.shape[0], "table_gib": table.numel() * 4 / 2**30, "trainer": rss()}
    t = time.perf_counter()
    tr.train_step()
    out |= {"step_seconds": time.perf_counter() - t, "step": rss()}
    tr.save()
    files = {p.name: p.stat().st_size / 2**30 for p in Path(run).glob("*.safetensors")}
    out |= {"save": rss(), "checkpoint_gib": files}
    tr.eval_model()
    out |= {"eval_copy": rss()}
print(json.dumps(out))
"""

VOTE_CHILD = r"""
import json, resource, sys, time
import numpy as np
from pathlib import Path
from recursia.build import make_task
from recursia.data.dataset import read_augmentation_record, read_split
from recursia.vote import Predictions, vote
folder = Path(sys.argv[1]) / "test"
t0 = time.perf_counter()
split = read_split(folder)
record = read_augmentation_record(split, folder)
t1 = time.perf_counter()
perfect = Predictions(np.asarray(split.labels), np.full(split.num_examples, 0.5))
result = vote(make_task("arc", {"canvas": 30}), split, record, [perfect], folder)
t2 = time.perf_counter()
print(json.dumps({"examples": split.num_examples, "read_seconds": t1 - t0, "vote_seconds": t2 - t1,
                  "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, **result.metrics}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--batch", type=int, nargs="+", default=[4, 8, 16])
    ap.add_argument("--no-vote", dest="vote", action="store_false", help="skip the voting pass")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    if args.vote:
        res = subprocess.run([sys.executable, "-c", VOTE_CHILD, args.data], capture_output=True, text=True)
        if res.returncode:
            sys.exit(f"vote: {res.stderr.strip().splitlines()[-1]}")
        v = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"vote over {v['examples']:,} test examples ({v['groups']} tasks, {v['test_inputs']} test inputs): "
              f"record read {v['read_seconds']:.1f} s, vote {v['vote_seconds']:.1f} s, peak RSS {v['peak_gib']:.2f} "
              f"GiB; perfect predictions give pass@1 {v['pass@1']:.3f}")
    peaks = []
    for batch in args.batch:
        res = subprocess.run([sys.executable, "-c", CHILD, args.data, str(batch)], capture_output=True, text=True)
        if res.returncode:
            sys.exit(f"batch {batch}: {res.stderr.strip().splitlines()[-1]}")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        peaks.append((batch, r["step"]["VmHWM"]))
        print(f"batch {batch}: {r['num_ids']:,} ids, table {r['table_gib']:.2f} GiB; RSS GiB after trainer "
              f"{r['trainer']['VmRSS']:.2f} (own {r['trainer']['RssAnon']:.2f}, mapped data {r['trainer']['RssFile']:.2f}),"
              f" own after one step {r['step']['RssAnon']:.2f}, RSS after one step {r['step']['VmRSS']:.2f} (peak {r['step']['VmHWM']:.2f}, "
              f"{r['step_seconds']:.0f} s), after checkpoint {r['save']['VmRSS']:.2f} (peak {r['save']['VmHWM']:.2f}), "
              f"with eval copy {r['eval_copy']['VmRSS']:.2f}; files "
              + ", ".join(f"{k} {v:.2f} GiB" for k, v in r["checkpoint_gib"].items()))
    if len(peaks) > 1:
        (b0, p0), (b1, p1) = peaks[0], peaks[-1]
        per = (p1 - p0) / (b1 - b0)
        print(f"step peak grows {per * 1024:.0f} MiB per sample: batch 768 on one process ~ {p0 + per * (768 - b0):.0f}"
              f" GiB, 192 per rank on 4 ranks ~ {p0 + per * (192 - b0):.0f} GiB (fp32, no activation checkpointing)")


if __name__ == "__main__":
    t0 = time.time()
    main()
    print(f"({time.time() - t0:.0f} s)")
