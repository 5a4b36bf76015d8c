"""HRM (arXiv 2506.21734) as presets of the one engine.

A task's ``hrm`` preset is its ``paper`` preset's task and data with HRM's own model and
training settings; ``hrm-small`` is its ``small`` preset's task, data, width and
schedule with HRM's structure. HRM's model (official ``config/arch/hrm_v1.yaml``): two
4-layer nets (f_L updates z, f_H updates y: ``net: separate``), H_cycles 2 and L_cycles 2
(``T 2, n 2``), attention with RoPE, one puzzle-prefix position (HRM always uses
ceil(puzzle_emb_ndim / hidden)), gradient through the last f_L and f_H call only
(``gradient: one_step``), Q-learning halting with a continue logit and its bootstrapped
target (``act: halt_continue``), N_sup 16, exploration 0.1, D 512, 8 heads, expansion 4.
HRM keeps no EMA of the weights. The optimizer settings per task are given by each
task's presets module, from HRM's README (``lr``, ``puzzle_emb_lr``, ``weight_decay``,
``puzzle_emb_weight_decay``, ``epochs``, ``eval_interval``) and ``config/cfg_pretrain.yaml``
(batch 768, warm-up 2000, constant lr, beta 0.9 / 0.95).
"""

from __future__ import annotations

from recursia.config import deep_merge

HRM_MODEL = {"mixer": "attention", "n_layers": 4, "T": 2, "n": 2,
             "puzzle_emb_len": None, "net": "separate", "gradient": "one_step", "act": "halt_continue",
             "halt_exploration_prob": 0.1}
HRM_PAPER_MODEL = {**HRM_MODEL, "hidden_size": 512, "expansion": 4, "num_heads": 8, "halt_max_steps": 16,
                   "swiglu_multiple": 256, "rope_theta": 10000.0}


def readme_training(epochs: int, eval_interval: int, examples_per_epoch: int, lr: float, puzzle_emb_lr: float,
                    weight_decay: float, batch_size: int = 768) -> dict:
    """The ``train`` settings of one HRM README command: its epochs and evaluation interval
    as optimizer steps (``epochs * examples_per_epoch / global_batch``, official
    ``pretrain.py``), its learning rates, and one weight decay for the network and the
    puzzle embedding (as every README command sets them)."""
    return {"steps": epochs * examples_per_epoch // batch_size,
            "eval_every": eval_interval * examples_per_epoch // batch_size,
            "lr": lr, "puzzle_emb_lr": puzzle_emb_lr, "weight_decay": weight_decay,
            "puzzle_emb_weight_decay": weight_decay}


def hrm_presets(paper: dict, small: dict, train: dict) -> dict[str, dict]:
    """``{"hrm": ..., "hrm-small": ...}`` from a task's ``paper`` and ``small`` presets.

    ``train``: HRM's training settings for the task at paper scale (lr, weight decays,
    steps, eval_every, ...); both presets turn the EMA off, as HRM has none.
    """
    hrm = {
        "task_options": paper.get("task_options", {}),
        "model": HRM_PAPER_MODEL,
        "train": deep_merge({"batch_size": 768, "warmup_steps": 2000, "beta1": 0.9, "beta2": 0.95,
                             "checkpoint_every": 1000}, train) | {"ema": False},
        "data": paper.get("data", {}),
    }
    small_model = {k: v for k, v in small.get("model", {}).items()
                   if k in ("hidden_size", "expansion", "num_heads", "halt_max_steps", "swiglu_multiple",
                            "rope_theta")}
    hrm_small = deep_merge(small, {"model": {**small_model, **HRM_MODEL}, "train": {"ema": False}})
    return {"hrm": hrm, "hrm-small": hrm_small}
