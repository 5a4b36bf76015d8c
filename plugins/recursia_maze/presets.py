"""Maze presets: ``paper`` (the TRM paper's Maze-Hard run) and ``small`` (a laptop CPU).

``paper``: 30x30 Maze-Hard, attention mixer with RoPE, D 512, 2 layers, T 3, n 4,
N_sup 16, AdamATan2 lr 1e-4 wd 1.0 (puzzle embedding lr 1e-4 wd 1.0), batch 768,
warm-up 2000, EMA 0.999; 1000 train mazes with the 8 dihedral augmentations stored;
6,822,914 parameters.

``small``: 9x9 mazes whose shortest path (10+ moves: Maze-Hard's 109 scaled by the
area) is unique, so the label is the only right answer; a narrow and shallow
attention model with RoPE theta 100 (with the official 10000 the same model stayed at
the copy-the-input plateau) and softmax cross-entropy, in float32 (bf16 ran 1.3x faster
and learned far less); 4500 steps with the learning rate on a cosine down to a tenth
(``lr_min_ratio`` 0.1; constant, the same run reached 44 %), ~14 minutes on 2 Xeon
cores (25 on 2 EPYC cores) to ~56 % valid shortest paths (figures, and the runs that
chose these settings, in docs/benchmarks.md).

``hrm`` and ``hrm-small``: HRM on the same data (:mod:`recursia.hrm`); HRM's README trains
Maze 30x30 Hard (1k, stored without augmented copies) for 20,000 epochs at lr 1e-4,
puzzle-embedding lr 1e-4, weight decays 1.0, evaluating every 2000 epochs (26,041 and
2,604 steps of batch 768).
"""

from __future__ import annotations

from recursia.api import hrm_presets, readme_training, small_cpu_preset


def presets(task) -> dict[str, dict]:
    """The named config overrides of the Maze task."""
    trm = {
        "paper": {
            "task_options": {"size": 30},
            "model": {"mixer": "attention", "hidden_size": 512, "n_layers": 2, "expansion": 4, "num_heads": 8,
                      "T": 3, "n": 4, "halt_max_steps": 16, "puzzle_emb_len": 16},
            "train": {"steps": 65104, "batch_size": 768, "lr": 1e-4, "weight_decay": 1.0, "warmup_steps": 2000,
                      "puzzle_emb_lr": 1e-4, "puzzle_emb_weight_decay": 1.0, "ema_rate": 0.999,
                      "eval_every": 6510, "checkpoint_every": 1000},
            "data": {"train_size": 1000, "test_size": 1000, "aug": 7},
        },
        "small": small_cpu_preset(
            {"size": 9, "min_path": 10, "unique_path": True}, {"train_size": 10000, "test_size": 1000, "aug": 1},
            model={"mixer": "attention", "rope_theta": 100.0},
            train={"steps": 4500, "batch_size": 64, "loss": "softmax", "eval_every": 500, "dtype": "auto",
                   "lr_min_ratio": 0.1}),
    }
    hrm_train = readme_training(epochs=20000, eval_interval=2000, examples_per_epoch=1000, lr=1e-4,
                                puzzle_emb_lr=1e-4, weight_decay=1.0)
    out = trm | hrm_presets(trm["paper"], trm["small"], hrm_train)
    out["hrm"]["data"] = {**out["hrm"]["data"], "aug": 0}  # HRM's maze-30x30-hard-1k has no augmented copies
    return out
