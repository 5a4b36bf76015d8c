"""Latin-square presets: ``paper`` (TRM's Sudoku settings) and ``small`` (a laptop CPU).

``paper``: the TRM paper's Sudoku-MLP hyper-parameters applied to 9x9 Latin squares:
D 512, 2 layers, T 3, n 6, N_sup 16, AdamATan2 lr 1e-4 wd 1.0 (puzzle embedding lr
1e-4 wd 1.0), batch 768, warm-up 2000, EMA 0.999, 1000 puzzles x 1000 augmentations;
50k epochs of 1000 groups at batch 768 is 65,104 optimizer steps.

``small``: 5x5 squares, a narrow network and a short recursion, a few minutes on a
laptop CPU.
"""

from __future__ import annotations

from recursia.api import small_cpu_preset, trm_paper_preset


def presets() -> dict[str, dict]:
    """The named config overrides of the ``latin`` task."""
    return {
        "paper": trm_paper_preset({"size": 9}, {"train_size": 1000, "test_size": 1000, "aug": 1000}),
        "small": small_cpu_preset(
            {"size": 5}, {"train_size": 2000, "test_size": 500, "aug": 3}, model={"n": 2},
            train={"steps": 600, "warmup_steps": 50, "eval_every": 200, "checkpoint_every": 200, "compile": False,
                   "threads": None, "dtype": "auto"}),
    }
