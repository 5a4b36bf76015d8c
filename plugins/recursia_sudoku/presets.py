"""Sudoku presets: ``paper`` (the TRM paper's Sudoku-MLP run) and ``small`` (a laptop CPU).

``paper``: D 512, 2 layers, T 3, n 6, N_sup 16, AdamATan2 lr 1e-4 wd 1.0 (puzzle
embedding lr 1e-4 wd 1.0), batch 768, warm-up 2000, EMA 0.999, on the 9x9 Sudoku-Extreme
style data (1000 puzzles x 1000 augmentations); 50k epochs of 1000 groups at batch 768
is 65,104 optimizer steps. With ``--mixer attention`` the same settings give the
paper's Sudoku-attention model.

``small``: 6x6 Sudoku (2x3 boxes) with a narrower, shallower recursion, sized so that
``recursia train --task sudoku --mixer mlp`` learns on 2 CPU cores in about 3 minutes
including the data build: compiled, bf16 where the CPU multiplies it natively, fewer
threads while other processes are busy (figures in docs/benchmarks.md).

``hrm`` and ``hrm-small``: HRM on the same data (:mod:`recursia.hrm`); HRM's README
trains Sudoku-Extreme-1k for 20,000 epochs at lr 1e-4, puzzle-embedding lr 1e-4, weight
decays 1.0, evaluating every 2000 epochs (26,041 and 2,604 steps of batch 768); the
model has 27,275,266 parameters.
"""

from __future__ import annotations

from recursia.api import hrm_presets, readme_training, small_cpu_preset, trm_paper_preset


def presets(task) -> dict[str, dict]:
    """The named config overrides of the Sudoku task."""
    trm = {
        "paper": trm_paper_preset({"size": 9}, {"train_size": 1000, "test_size": 1000, "aug": 1000}),
        "small": small_cpu_preset({"size": 6}, {"train_size": 5000, "test_size": 1000, "aug": 3}),
    }
    hrm_train = readme_training(epochs=20000, eval_interval=2000, examples_per_epoch=1000, lr=1e-4,
                                puzzle_emb_lr=1e-4, weight_decay=1.0)
    return trm | hrm_presets(trm["paper"], trm["small"], hrm_train)
