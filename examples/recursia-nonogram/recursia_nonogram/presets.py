"""Nonogram presets: ``paper`` (TRM paper-scale settings) and ``small`` (2 CPU cores).

``paper``: the TRM paper's Sudoku-MLP hyper-parameters on 10x10 nonograms: D 512,
2 layers, T 3, n 6, N_sup 16, AdamATan2 lr 1e-4 wd 1.0 (puzzle embedding lr 1e-4
wd 1.0), batch 768, warm-up 2000, EMA 0.999, 65,104 optimizer steps. The dihedral
group gives only 8 versions of a puzzle, so instead of 1000 puzzles x 1000
augmentations it stores 10,000 puzzles x 7 augmented copies. Meant for a GPU.

``small``: 5x5 nonograms, a narrow network and a short recursion, compiled, bf16
where the CPU multiplies it natively and fewer threads while other processes are busy,
sized so that ``recursia train --task nonogram --mixer mlp`` learns on 2 CPU cores
within 15 minutes including the data build (measured figures in the README).
"""

from __future__ import annotations

from recursia.api import small_cpu_preset, trm_paper_preset


def presets() -> dict[str, dict]:
    """The named config overrides of the ``nonogram`` task."""
    return {
        "paper": trm_paper_preset({"size": 10}, {"train_size": 10000, "test_size": 1000, "aug": 7}),
        "small": small_cpu_preset({"size": 5}, {"train_size": 8000, "test_size": 1000, "aug": 3},
                                  train={"steps": 2500, "eval_limit": 500}),
    }
