"""Latin-square presets: ``paper`` (TRM's Sudoku settings) and ``small`` (a laptop CPU).

``paper``: the TRM paper's Sudoku-MLP hyper-parameters applied to 9x9 Latin squares:
D 512, 2 layers, T 3, n 6, N_sup 16, AdamATan2 lr 1e-4 wd 1.0 (puzzle embedding lr
1e-4 wd 1.0), batch 768, warm-up 2000, EMA 0.999, 1000 puzzles x 1000 augmentations;
50k epochs of 1000 groups at batch 768 is 65,104 optimizer steps.

``small``: 5x5 squares, a narrow network and a short recursion, a few minutes on a
laptop CPU.
"""

from __future__ import annotations


def presets() -> dict[str, dict]:
    """The named config overrides of the ``latin`` task."""
    return {
        "paper": {
            "task_options": {"size": 9},
            "model": {"hidden_size": 512, "n_layers": 2, "expansion": 4, "num_heads": 8, "T": 3, "n": 6,
                      "halt_max_steps": 16, "puzzle_emb_len": 16},
            "train": {"steps": 65104, "batch_size": 768, "lr": 1e-4, "weight_decay": 1.0, "warmup_steps": 2000,
                      "puzzle_emb_lr": 1e-4, "puzzle_emb_weight_decay": 1.0, "ema_rate": 0.999,
                      "eval_every": 6510, "checkpoint_every": 1000},
            "data": {"train_size": 1000, "test_size": 1000, "aug": 1000},
        },
        "small": {
            "task_options": {"size": 5},
            "model": {"hidden_size": 64, "n_layers": 2, "expansion": 4, "num_heads": 4, "T": 2, "n": 2,
                      "halt_max_steps": 8, "puzzle_emb_len": 1, "swiglu_multiple": 64},
            "train": {"steps": 600, "batch_size": 128, "lr": 2e-3, "weight_decay": 0.1, "warmup_steps": 50,
                      "puzzle_emb_lr": 1e-3, "puzzle_emb_weight_decay": 0.1, "ema_rate": 0.99,
                      "eval_every": 200, "eval_limit": 300, "checkpoint_every": 200},
            "data": {"train_size": 2000, "test_size": 500, "aug": 3},
        },
    }
