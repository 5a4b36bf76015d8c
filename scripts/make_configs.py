"""Regenerate examples/configs/*.yaml and examples/configs/ablations/sudoku-*.yaml: a
header, then the resolved config.

    python scripts/make_configs.py

The numbers come from the tasks' `paper` (and `hrm`) presets and the rows of
recursia/ablations.py, never from this script: change those, then rerun it.
tests/test_config_cli.py fails when a shipped file differs from what this script writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recursia import config as C
from recursia.ablations import VARIANTS, Variant, variant_config
from recursia.build import make_model, make_task
from recursia.cli.config import show_config

OUT = Path(__file__).resolve().parents[1] / "examples" / "configs"

SUDOKU_DATA = """\
# Data: Sudoku-Extreme as in the paper: 1000 train puzzles x 1000 augmentations, the whole test
# split. Download train.csv and test.csv of the Hugging Face dataset sapientinc/sudoku-extreme, then
#   recursia data build sudoku --out data/sudoku-extreme-1k --source csv:train.csv --test-source csv:test.csv --subsample 1000 --aug 1000
"""

MAZE_DATA = """\
# Data: Maze-Hard as in the paper: 1000 train mazes (30x30) stored with 7 dihedral copies each,
# 1000 test mazes. Build the official folder data/maze-30x30-hard-1k with the TinyRecursiveModels
# repository (`python dataset/build_maze_dataset.py` downloads sapientinc/maze-30x30-hard-1k from
# Hugging Face), then
#   recursia data build maze --out data/maze-hard --source official:data/maze-30x30-hard-1k --aug 7
# or, without a download, generate Maze-Hard-style mazes (shortest paths of 109+ moves):
#   recursia data build maze --out data/maze-hard --train-size 1000 --test-size 1000 --aug 7
"""


@dataclass(frozen=True)
class Example:
    """One shipped config: ``examples/configs/{name}.yaml``."""

    name: str
    title: str
    task: str
    mixer: str | None
    data_path: str
    data_help: str

    def show_args(self) -> list[str]:
        """The `recursia config show` options that give this config."""
        mixer = ["--mixer", self.mixer] if self.mixer else []
        return ["--task", self.task, *mixer, "--preset", "paper", "--set", f"data.path={self.data_path}"]

    def render(self) -> str:
        """The file's text: the header, then the output of `recursia config show` with :meth:`show_args`."""
        path = f"examples/configs/{self.name}.yaml"
        header = (
            f"# {self.title}\n"
            f"# Written by `python scripts/make_configs.py` from\n"
            f"#   recursia config show {' '.join(self.show_args())}\n"
            f"# (the numbers are the task's `paper` preset: change the preset, then rerun the script).\n"
            f"#\n"
            f"{self.data_help}"
            f"# data.path is that folder, relative to where you launch (`--data DIR` overrides it);\n"
            f"# data.train_size, test_size and aug only size the generated dataset that a config\n"
            f"# without data.path builds.\n"
            f"#\n"
            f"# One GPU:      recursia train --config {path} --out runs/{self.name}\n"
            f"# Several GPUs: torchrun --nproc-per-node 4 -m recursia train --config {path} --out runs/{self.name}\n"
            f"#          or:  recursia train --nproc 4 --config {path} --out runs/{self.name}\n"
            f"# train.batch_size is the global batch, split over the processes.\n"
            f"#\n"
        )
        return header + show_config(self.task, self.mixer, "paper", None, [f"data.path={self.data_path}"], None,
                                    "cpu")


EXAMPLES = [
    Example("sudoku-mlp", "The TRM paper's Sudoku-Extreme run with the MLP mixer (Sudoku-MLP).", "sudoku", "mlp",
            "data/sudoku-extreme-1k", SUDOKU_DATA),
    Example("sudoku-attention", "The TRM paper's Sudoku-Extreme run with the attention mixer (attention + RoPE).",
            "sudoku", "attention", "data/sudoku-extreme-1k", SUDOKU_DATA),
    Example("maze-hard", "The TRM paper's Maze-Hard run (30x30 mazes, attention + RoPE).", "maze", None,
            "data/maze-hard", MAZE_DATA),
]


def render_ablation(variant: Variant, task: str = "sudoku") -> str:
    """``examples/configs/ablations/{task}-{name}.yaml``: one row of the paper's ablation
    table at the paper's scale (what ``recursia ablate {task} --preset paper`` trains)."""
    cfg = variant_config(task, variant, "paper", "cpu", overrides=["data.path=data/sudoku-extreme-1k"])
    model = make_model(cfg, make_task(cfg.task, cfg.task_options), 1)
    task_cls = make_task(task, {})
    paper = task_cls.paper_ablations.get(variant.name)
    m = cfg.model
    path = f"examples/configs/ablations/{task}-{variant.name}.yaml"
    header = (
        f"# TRM paper ablation, Table {variant.table}: {variant.label}\n"
        f"# paper: {paper}% exact on Sudoku-Extreme ({task_cls.paper_ablations_source})\n"
        f"# {model.num_parameters():,} parameters; effective depth T(n+1) x layers = {m.effective_depth()}; "
        f"{m.forward_passes()} forward pass(es) per supervision step\n"
        f"# Written by `python scripts/make_configs.py` from recursia/ablations.py (row `{variant.name}`)\n"
        f"# applied to the `{variant.preset('paper')}` preset. All rows at a laptop's scale, with one table:\n"
        f"#   recursia ablate {task} --preset small\n"
        f"# This row alone, at the paper's scale (build data/sudoku-extreme-1k as sudoku-mlp.yaml says):\n"
        f"#   recursia train --config {path} --out runs/ablation-{variant.name}\n"
        f"#\n"
    )
    return header + C.dump_yaml(cfg)


def main() -> None:
    """Write every example config and print its path."""
    OUT.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        path = OUT / f"{example.name}.yaml"
        path.write_text(example.render())
        print(path)
    (OUT / "ablations").mkdir(exist_ok=True)
    for variant in VARIANTS:
        path = OUT / "ablations" / f"sudoku-{variant.name}.yaml"
        path.write_text(render_ablation(variant))
        print(path)


if __name__ == "__main__":
    main()
