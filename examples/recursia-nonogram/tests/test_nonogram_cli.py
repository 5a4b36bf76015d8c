"""The plugin as installed: discovery, the API-only import rule, presets, and the CLI from data
build through a tiny training run to ``recursia solve``; the ``dwconv`` mixer."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from recursia.api import ConfigError, ModelConfig, read_split

PACKAGE = Path(__file__).resolve().parents[1]
PUZZLE = PACKAGE / "puzzles" / "nonogram5.json"
TINY = ["model.hidden_size=16", "model.num_heads=2", "model.T=1", "model.n=1", "model.halt_max_steps=2",
        "model.puzzle_emb_len=1", "model.swiglu_multiple=16", "train.batch_size=8", "train.eval_every=0",
        "train.dtype=float32", "train.compile=false", "train.threads=1", "train.log_every=1",
        "train.tensorboard=false"]


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    """``recursia ARGS`` in this process: ``(exit code, stdout, stderr)``."""
    from recursia.cli.app import main

    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def tiny_args(*extra: str) -> list[str]:
    """``--set`` options of a model small enough to train in seconds; ``extra`` keys override them."""
    overridden = {e.split("=")[0] for e in extra}
    keys = [k for k in TINY if k.split("=")[0] not in overridden] + list(extra)
    return [a for key in keys for a in ("--set", key)]


@pytest.fixture(scope="module")
def nonogram_data(tmp_path_factory) -> Path:
    """A small 5x5 dataset built through ``recursia data build`` (built once per module)."""
    import recursia.plugins

    out = tmp_path_factory.mktemp("nonogram") / "data"
    from recursia.cli.app import main

    registry = recursia.plugins._REGISTRY
    try:
        main(["data", "build", "nonogram", "--out", str(out), "--size", "5", "--train-size", "50",
              "--test-size", "10", "--aug", "2", "--seed", "3"])
    except SystemExit as e:
        assert e.code in (0, None), e.code
    finally:
        recursia.plugins._REGISTRY = registry
    return out


# --- packaging and discovery ---------------------------------------------------------

def test_pyproject_declares_the_entry_point():
    meta = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "recursia-nonogram" and "recursia" in meta["project"]["dependencies"]
    assert meta["project"]["entry-points"]["recursia"] == {"nonogram": "recursia_nonogram"}


def test_the_plugin_is_found_with_its_task_augmentation_and_mixer(registry):
    import recursia_nonogram

    assert "nonogram" not in registry.failures, registry.failures
    info = next(p for p in registry.plugins if p.name == "nonogram")
    assert (info.module, info.builtin, info.version) == ("recursia_nonogram", False, recursia_nonogram.__version__)
    assert info.registered["tasks"] == ["nonogram"] and info.registered["mixers"] == ["dwconv"]
    assert info.registered["augmentations"] == ["nonogram.dihedral"]
    assert registry.task("nonogram") is recursia_nonogram.NonogramTask
    assert {"mlp", "attention", "dwconv"} <= set(registry.mixers)


def test_the_package_imports_only_the_public_api_and_no_torch_at_import():
    bad = []
    for path in sorted((PACKAGE / "recursia_nonogram").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            bad += [f"{path.name}:{node.lineno} {m}" for m in names if m.split(".")[0] == "recursia" and m != "recursia.api"]
    assert bad == []
    code = "import sys, recursia_nonogram; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE)


def test_every_public_function_and_class_has_a_docstring():
    missing = []
    for path in sorted((PACKAGE / "recursia_nonogram").rglob("*.py")):
        tree = ast.parse(path.read_text())
        if not ast.get_docstring(tree):
            missing.append(path.name)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_") \
                    and not ast.get_docstring(node):
                missing.append(f"{path.name}:{node.name}")
    assert missing == []


# --- presets and config --------------------------------------------------------------

def test_presets_are_valid_run_configs(use_registry, capsys):
    from recursia_nonogram.task import NonogramTask

    presets = NonogramTask().presets()
    assert {"small", "paper"} <= set(presets)
    paper = presets["paper"]["model"]
    assert (paper["hidden_size"], paper["n_layers"], paper["T"], paper["n"], paper["halt_max_steps"]) == (512, 2, 3, 6, 16)
    small = presets["small"]["train"]
    assert (small["compile"], small["threads"], small["dtype"]) == (True, "auto", "fastest")
    for preset in ("small", "paper"):
        code, out, err = run_cli(capsys, "config", "show", "--task", "nonogram", "--preset", preset)
        assert code == 0, err
        assert "task: nonogram" in out and f"preset: {preset}" in out
    code, out, _ = run_cli(capsys, "config", "show", "--task", "nonogram", "--preset", "small", "--mixer", "dwconv")
    assert code == 0 and "mixer: dwconv" in out and "size: 5" in out


# --- data build, training, solve -------------------------------------------------------

def test_data_build_through_the_cli(use_registry, nonogram_data):
    from recursia_nonogram.task import NonogramTask

    task = NonogramTask()
    train, test = read_split(nonogram_data / "train"), read_split(nonogram_data / "test")
    assert (train.num_examples, train.num_groups, test.num_examples) == (150, 50, 10)
    assert train.meta["seq_len"] == task.seq_len and train.meta["vocab_size"] == task.vocab_size
    assert all(task.check(x, y) for x, y in zip(np.asarray(train.inputs), np.asarray(train.labels)))


def test_data_build_errors_are_one_line(use_registry, capsys, tmp_path):
    code, _, err = run_cli(capsys, "data", "build", "nonogram", "--out", str(tmp_path / "x"),
                           "--source", "csv:x.csv", "--train-size", "5", "--test-size", "5")
    assert code == 2 and "unknown nonogram data source 'csv:x.csv'" in err and len(err.strip().splitlines()) == 1


def test_three_training_steps_then_solve_and_eval(use_registry, capsys, nonogram_data, tmp_path):
    run = tmp_path / "run"
    code, out, err = run_cli(capsys, "train", "--task", "nonogram", "--mixer", "mlp", "--steps", "3",
                             "--data", str(nonogram_data), "--out", str(run), "--no-progress", *tiny_args())
    assert code == 0, err
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "loss" in m and not m.get("final")][:3] == [1, 2, 3]
    code, out, err = run_cli(capsys, "solve", str(PUZZLE), "--checkpoint", str(run), "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert len(answer["answer"]) == 5 and all(len(row) == 5 for row in answer["answer"])
    assert isinstance(answer["valid"], bool)
    code, out, err = run_cli(capsys, "solve", str(PUZZLE), "--checkpoint", str(run))
    assert code == 0 and "2 4 4 4 2" in out, err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"task": "nonogram", "puzzle": {"rows": [[1], [1], [4, 2], [1], [1]],
                                                              "cols": [[1]] * 5}}))
    code, _, err = run_cli(capsys, "solve", str(bad), "--checkpoint", str(run))
    assert code == 2 and "row 3 clue [4, 2] needs 7 cells, the grid has 5" in err


# --- the dwconv mixer ------------------------------------------------------------------

def make_mixer(hidden: int = 16, seq: int = 12, **options):
    """A ``dwconv`` mixer through the registered factory."""
    from recursia_nonogram import make_dwconv

    return make_dwconv(hidden, seq, ModelConfig(hidden_size=hidden, mixer="dwconv", mixer_options=options,
                                                swiglu_multiple=16))


@pytest.mark.parametrize("options", [{}, {"kernel_size": 3, "dilation": 5}, {"channel_mix": False, "kernel_size": 1}])
def test_dwconv_keeps_the_shape_and_passes_gradients(options):
    import torch

    mixer = make_mixer(**options)
    h = torch.randn(3, 12, 16, requires_grad=True)  # (B, S, D)
    out = mixer(h)  # (B, S, D)
    assert out.shape == (3, 12, 16) and torch.isfinite(out).all()
    out.square().sum().backward()
    assert h.grad is not None and h.grad.abs().sum() > 0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in mixer.parameters())
    assert mixer.flops_per_sample(12, 16) > 0


def test_dwconv_mixes_only_neighbouring_positions():
    import torch

    mixer = make_mixer(kernel_size=3, channel_mix=False)
    h = torch.zeros(1, 12, 16)
    h[0, 5] = 1.0
    touched = mixer(h).abs().sum(-1)[0] > 0  # (S,)
    assert touched.nonzero().ravel().tolist() == [4, 5, 6]


def test_dwconv_runs_under_bf16_autocast():
    import torch

    mixer = make_mixer()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = mixer(torch.randn(2, 12, 16))  # (B, S, D)
    assert out.shape == (2, 12, 16) and torch.isfinite(out.float()).all()


@pytest.mark.parametrize("options, message", [
    ({"kernel_size": 4}, "kernel_size: expected an odd size"),
    ({"kernel_size": 0}, "kernel_size: expected an integer >= 1"),
    ({"channel_mix": "yes"}, "channel_mix: expected true or false"),
    ({"width": 3}, "mixer_options.width: unknown key"),
])
def test_dwconv_options_are_checked(options, message):
    with pytest.raises(ConfigError, match=message):
        make_mixer(**options)


def test_dwconv_trains_sudoku_for_three_steps_in_bf16(use_registry, capsys, tmp_path):
    data = tmp_path / "sudoku"
    code, _, err = run_cli(capsys, "data", "build", "sudoku", "--out", str(data), "--size", "6",
                           "--train-size", "30", "--test-size", "8")
    assert code == 0, err
    run = tmp_path / "run"
    sets = tiny_args("train.dtype=bfloat16", "task_options.size=6")
    code, _, err = run_cli(capsys, "train", "--task", "sudoku", "--mixer", "dwconv", "--steps", "3",
                           "--data", str(data), "--out", str(run), "--no-progress", *sets)
    assert code == 0, err
    losses = [json.loads(line).get("loss") for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(x) for x in losses if x is not None)
    config = json.loads((run / "config.json").read_text())
    assert config["model"]["mixer"] == "dwconv" and config["train"]["dtype"] == "bfloat16"
