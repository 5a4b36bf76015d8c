"""``recursia data build TASK``: generate or import a dataset in the official layout."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from recursia import config as C
from recursia.build import make_task
from recursia.cli.common import check_out_folder
from recursia.data.cache import build_into
from recursia.errors import ConfigError
from recursia.task import DataBuildRequest

app = typer.Typer(no_args_is_help=True, help="Build and import datasets.")


@app.command("build", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def build_command(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="task name"),
    out: Path = typer.Option(..., help="output folder (gets train/ and test/)"),
    source: str = typer.Option("generate", help="generate | csv:PATH | official:PATH (task-dependent); "
                                                "an imported source's own train and test splits are kept"),
    test_source: str = typer.Option(None, help="the test split of a source that has none (e.g. csv:test.csv)"),
    train_size: int = typer.Option(None, min=0, help="train puzzles before augmentation (default: 1000 "
                                                     "generated; all of an imported train split)"),
    test_size: int = typer.Option(None, min=0, help="test puzzles, never augmented (default: 1000 generated "
                                                    "or held out of a source without a test split; all of "
                                                    "an imported test split)"),
    aug: int = typer.Option(0, min=0, help="stored augmented copies per train puzzle"),
    test_aug: int = typer.Option(0, min=0, help="stored augmented copies per test puzzle, for voting "
                                                "(recursia eval --vote)"),
    seed: int = typer.Option(0, help="random seed"),
    subsample: int = typer.Option(None, min=0, help="a seeded random subset of N imported train puzzles "
                                                    "(the test split is kept)"),
    resplit: bool = typer.Option(False, "--resplit", help="merge an imported source's train and test "
                                                          "splits and split them again at random"),
    size: int = typer.Option(None, help="puzzle size (task option 'size')"),
    options: list[str] = typer.Option([], "--set", help="task option, e.g. --set size=6; a bare value sets the "
                                                        "task option 'set' (ARC: --set arc1)"),
) -> None:
    """Build TASK's train and test splits into --out.

    Further ``--name value`` options become task options (``--min-path 110`` sets
    ``min_path``), as does ``--set name=value``; ``--set VALUE`` without ``=`` sets the
    task option ``set`` (ARC: ``--set arc1``). The splits are built in a temporary
    folder and moved into --out when complete, so a refused or failed build changes
    nothing there.
    """
    check_out_folder(out)
    opts: dict = {}
    for item in [o if "=" in o else f"set={o}" for o in options] + extra_task_options(ctx.args):
        opts = C.deep_merge(opts, C.parse_override(item))
    if size is not None:
        opts["size"] = size
    task_obj = make_task(task, opts)
    req = DataBuildRequest(out=out, source=source, train_size=train_size, test_size=test_size, aug=aug,
                           seed=seed, subsample=subsample, test_source=test_source, resplit=resplit,
                           test_aug=test_aug)
    summary = build_into(task_obj, req)
    for warning in summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(json.dumps({"out": str(out), "task": task_obj.describe()} | summary, indent=1, default=str))


def extra_task_options(args: list[str]) -> list[str]:
    """``["--min-path", "110"]`` -> ``["min_path=110"]``; ConfigError for anything else."""
    out, i = [], 0
    while i < len(args):
        flag = args[i]
        if not flag.startswith("--") or len(flag) < 3:
            raise ConfigError(f"unexpected argument {flag!r} (task options are given as --name value)")
        name, eq, value = flag[2:].partition("=")
        if not eq:
            if i + 1 >= len(args):
                raise ConfigError(f"{flag}: missing value")
            value, i = args[i + 1], i + 1
        out.append(f"{name.replace('-', '_')}={value}")
        i += 1
    return out
