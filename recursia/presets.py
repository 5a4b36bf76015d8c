"""Preset building blocks shared by tasks (public through :mod:`recursia.api`): the TRM
paper's settings and a laptop-CPU starting point."""

from __future__ import annotations

import copy

TRM_PAPER = {  # the TRM paper's Sudoku-MLP run (arXiv 2510.04871, section 5 and its released config)
    "model": {"hidden_size": 512, "n_layers": 2, "expansion": 4, "num_heads": 8, "T": 3, "n": 6,
              "halt_max_steps": 16, "puzzle_emb_len": 16},
    "train": {"steps": 65104, "batch_size": 768, "lr": 1e-4, "weight_decay": 1.0, "warmup_steps": 2000,
              "puzzle_emb_lr": 1e-4, "puzzle_emb_weight_decay": 1.0, "ema_rate": 0.999,
              "eval_every": 6510, "checkpoint_every": 1000},
}


SMALL_CPU = {  # a laptop CPU: a narrow net, a short recursion, compiled, bf16 where native, threads that yield
    "model": {"hidden_size": 64, "n_layers": 2, "expansion": 4, "num_heads": 4, "T": 2, "n": 3,
              "halt_max_steps": 8, "puzzle_emb_len": 1, "swiglu_multiple": 64},
    "train": {"steps": 1000, "batch_size": 128, "lr": 2e-3, "weight_decay": 0.1, "warmup_steps": 100,
              "puzzle_emb_lr": 1e-3, "puzzle_emb_weight_decay": 0.1, "ema_rate": 0.99,
              "eval_every": 500, "eval_limit": 300, "checkpoint_every": 250, "compile": True,
              "threads": "auto", "dtype": "fastest"},
}


def small_cpu_preset(task_options: dict, data: dict, model: dict | None = None, train: dict | None = None) -> dict:
    """A ``small`` preset for 2 CPU cores: D 64, 2 layers, T 2, n 3, N_sup 8, one prefix
    position, batch 128, lr 2e-3 wd 0.1 (puzzle embedding lr 1e-3 wd 0.1), EMA 0.99,
    1000 steps evaluated every 500 on 300 test puzzles, ``torch.compile``, bf16 where
    the CPU multiplies it natively (``dtype: fastest``) and threads that yield to a busy
    machine (``threads: auto``); ``model`` and ``train`` override single keys."""
    return {"task_options": dict(task_options), "model": SMALL_CPU["model"] | (model or {}),
            "train": SMALL_CPU["train"] | (train or {}), "data": dict(data)}


def trm_paper_preset(task_options: dict, data: dict) -> dict:
    """A ``paper`` preset: the TRM paper's Sudoku-MLP settings (D 512, 2 layers, T 3, n 6,
    N_sup 16, AdamATan2 lr 1e-4 wd 1.0, puzzle embedding lr 1e-4 wd 1.0, batch 768,
    warm-up 2000, EMA 0.999, 65,104 steps: 50k epochs of 1000 groups) with the task's own
    ``task_options`` and ``data`` sizes (the paper: 1000 puzzles x 1000 augmentations)."""
    return {"task_options": dict(task_options), **copy.deepcopy(TRM_PAPER), "data": dict(data)}
