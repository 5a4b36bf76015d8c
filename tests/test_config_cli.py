"""`recursia config show` and `recursia train --config`: what one prints, the other takes back;
every error of a config file at once; the shipped examples/configs/ are current."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from recursia import config as C
from recursia.build import make_task
from recursia.cli.config import show_config
from recursia.cli.train import resolve_config
from tests.test_end_to_end import run_cli

ROOT = Path(__file__).resolve().parents[1]
TINY = ["task_options.size=4", "train.compile=false", "train.dtype=float32", "model.hidden_size=16",
        "model.num_heads=2", "model.T=1", "model.n=1", "model.halt_max_steps=3", "train.batch_size=8", "train.eval_every=0"]


def from_file(path: Path, device: str = "cpu") -> C.RunConfig:
    """What `recursia train --config PATH` resolves with no other option."""
    return resolve_config(None, None, None, path, [], None, device)


def make_configs():
    """scripts/make_configs.py as a module."""
    if "make_configs" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_configs", ROOT / "scripts" / "make_configs.py")
        sys.modules["make_configs"] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
        spec.loader.exec_module(sys.modules["make_configs"])
    return sys.modules["make_configs"]


# --- round trip: config show > f.yaml; train --config f.yaml ---------------------------------

@pytest.mark.parametrize("task,preset", [(task, preset) for task in ("sudoku", "maze", "arc")
                                         for preset in ("small", "paper")])
@pytest.mark.parametrize("sets", [[], ["train.lr=3e-4", "model.T=2", "data.path=some/data", "train.eval_limit=null"]])
def test_show_then_config_alone_gives_the_same_config(task, preset, sets, tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(show_config(task, None, preset, None, sets, None, "cpu"))
    want = resolve_config(task, None, preset, None, sets, None, "cpu")
    assert from_file(path) == want
    assert from_file(path, "cuda") == want  # the file names its preset: the device no longer picks it
    assert want.preset == preset and want.task == task


def test_round_trip_keeps_a_mixer_and_steps(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(show_config("sudoku", "attention", "paper", None, ["train.ema_rate=0.99"], 123, "cpu"))
    cfg = from_file(path)
    assert cfg == resolve_config("sudoku", "attention", "paper", None, ["train.ema_rate=0.99"], 123, "cpu")
    assert (cfg.model.mixer, cfg.train.steps, cfg.train.ema_rate, cfg.model.hidden_size) == ("attention", 123, 0.99,
                                                                                             512)


def test_options_given_beside_the_file_win(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text(show_config("sudoku", None, "small", None, [], None, "cpu"))
    cfg = resolve_config(None, "attention", None, path, ["train.lr=0.5"], 9, "cpu")
    assert (cfg.task, cfg.preset, cfg.model.mixer, cfg.train.lr, cfg.train.steps) == ("sudoku", "small", "attention",
                                                                                      0.5, 9)


def test_a_partial_file_still_takes_the_preset_below_it(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("task: maze\nmodel:\n  hidden_size: 32\n")
    cfg = from_file(path)
    small = resolve_config("maze", None, "small", None, [], None, "cpu")
    assert cfg.preset == "small" and cfg.model.hidden_size == 32
    assert cfg.model.model_copy(update={"hidden_size": small.model.hidden_size}) == small.model
    assert from_file(path, "cuda").preset == "paper"  # no preset in the file: the device's default, as train


# --- the default preset and the header ------------------------------------------------------

@pytest.mark.parametrize("device,preset", [("cpu", "small"), ("cuda", "paper"), ("cuda:1", "paper")])
def test_show_names_the_default_preset_as_train_picks_it(device, preset):
    text = show_config("sudoku", None, None, None, [], None, device)
    first, second = text.splitlines()[:2]
    assert first == (f"# recursia run config: task sudoku, preset {preset} (the default on "
                     f"{device.split(':')[0].upper()}), mixer mlp")
    assert second.startswith("# train with: recursia train --config ")
    assert f"\npreset: {preset}\n" in text
    assert resolve_config("sudoku", None, None, None, [], None, device).preset == preset


def test_show_says_where_the_preset_came_from(tmp_path):
    assert "preset paper (--preset)" in show_config("maze", None, "paper", None, [], None, "cpu")
    path = tmp_path / "f.yaml"
    path.write_text("task: maze\npreset: paper\n")
    assert f"preset paper (from {path})" in show_config(None, None, None, path, [], None, "cpu")
    assert "preset paper (the default on CUDA)" in show_config(None, None, None, path, [], None, "cuda")


# --- through the CLI -------------------------------------------------------------------------

def test_cli_config_show_prints_a_file_train_takes(tmp_path, capsys):
    code, out, err = run_cli(capsys, "config", "show", "--task", "sudoku", "--preset", "paper", "--mixer", "attention",
                             "--set", "train.lr=2e-4", "--steps", "77")
    assert code == 0 and err == ""
    assert out.startswith("# recursia run config: task sudoku, preset paper (--preset), mixer attention\n")
    path = tmp_path / "f.yaml"
    path.write_text(out)
    assert from_file(path) == resolve_config("sudoku", "attention", "paper", None, ["train.lr=2e-4"], 77, "cpu")


def test_train_takes_exactly_what_config_show_prints(tmp_path, capsys):
    data = tmp_path / "data"
    assert run_cli(capsys, "data", "build", "sudoku", "--out", str(data), "--size", "4", "--train-size", "24",
                   "--test-size", "4", "--seed", "3")[0] == 0
    sets = [a for item in [*TINY, f"data.path={data}", "train.steps=2"] for a in ("--set", item)]
    code, out, _ = run_cli(capsys, "config", "show", "--task", "sudoku", "--preset", "small", *sets)
    assert code == 0
    path = tmp_path / "run.yaml"
    path.write_text(out)
    code, out, err = run_cli(capsys, "train", "--config", str(path), "--out", str(tmp_path / "run"), "--no-progress")
    assert code == 0, err
    saved = C.load_json(tmp_path / "run" / "config.json")
    assert saved == from_file(path) and saved.task == "sudoku" and saved.train.steps == 2


@pytest.mark.parametrize("command", [["train", "--no-progress"], ["config", "show"]])
def test_a_file_without_a_task_is_one_line(command, tmp_path, capsys):
    path = tmp_path / "f.yaml"
    path.write_text("model:\n  hidden_size: 32\n")
    out_dir = tmp_path / "run"
    extra = ["--out", str(out_dir)] if command[0] == "train" else []
    code, out, err = run_cli(capsys, *command, "--config", str(path), *extra)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err == f"error: {path}: no 'task' key and no --task given (e.g. --task sudoku); `recursia plugins` " \
                  f"lists the tasks\n"
    assert not out_dir.exists()
    code, _, err = run_cli(capsys, *command, *extra)
    assert code == 2 and err.startswith("error: --task is required") and err.count("\n") == 1


@pytest.mark.parametrize("command", [["train", "--no-progress"], ["config", "show"]])
def test_every_error_of_a_config_file_is_named_on_one_line(command, tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("task: sudoku\ncolour: red\nmodel:\n  hiden_size: 64\ntrain:\n  lr: fast\n")
    out_dir = tmp_path / "run"
    extra = ["--out", str(out_dir)] if command[0] == "train" else []
    code, out, err = run_cli(capsys, *command, "--config", str(path), *extra)
    assert code == 2 and out == "" and "Traceback" not in err and err.count("\n") == 1
    assert err.startswith(f"error: {path}: ")
    for piece in ("colour: unknown key", "model.hiden_size: unknown key", "train.lr: Input should be a valid number"):
        assert piece in err, piece
    assert not out_dir.exists()


@pytest.mark.parametrize("body,needle", [
    ("task: sudoku\npreset: huge\n", "preset huge: task 'sudoku' has presets hrm, hrm-small, paper, small"),
    ("task: [sudoku]\n", "task: Input should be a valid string"),
    ("task: sudoku\npreset: [paper]\n", "preset: Input should be a valid string"),
    ("task: nosuchtask\n", "nosuchtask"),
])
def test_a_bad_task_or_preset_in_the_file_is_one_line(body, needle, tmp_path, capsys):
    path = tmp_path / "f.yaml"
    path.write_text(body)
    code, out, err = run_cli(capsys, "config", "show", "--config", str(path))
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, err


# --- the shipped examples -------------------------------------------------------------------

def test_shipped_configs_are_what_make_configs_writes():
    examples = make_configs().EXAMPLES
    shipped = sorted(p.name for p in (ROOT / "examples" / "configs").glob("*.yaml"))
    assert shipped == sorted(f"{ex.name}.yaml" for ex in examples), "run python scripts/make_configs.py"
    for ex in examples:
        path = ROOT / "examples" / "configs" / f"{ex.name}.yaml"
        assert path.read_text() == ex.render(), f"{path} is stale: run python scripts/make_configs.py"


def test_shipped_ablation_configs_are_the_ablation_rows():
    from recursia.ablations import VARIANTS, variant_config

    folder = ROOT / "examples" / "configs" / "ablations"
    assert sorted(p.name for p in folder.glob("*.yaml")) == sorted(f"sudoku-{v.name}.yaml" for v in VARIANTS)
    script = make_configs()
    for v in VARIANTS:
        path = folder / f"sudoku-{v.name}.yaml"
        assert path.read_text() == script.render_ablation(v), f"{path} is stale: run python scripts/make_configs.py"
        want = variant_config("sudoku", v, "paper", "cpu", overrides=["data.path=data/sudoku-extreme-1k"])
        assert from_file(path) == want
        assert f"paper: {make_task('sudoku', {}).paper_ablations[v.name]}% exact" in path.read_text()


@pytest.mark.parametrize("name,task,mixer,data", [
    ("sudoku-mlp", "sudoku", "mlp", "data/sudoku-extreme-1k"),
    ("sudoku-attention", "sudoku", "attention", "data/sudoku-extreme-1k"),
    ("maze-hard", "maze", "attention", "data/maze-hard"),
])
def test_shipped_configs_are_the_paper_presets(name, task, mixer, data):
    path = ROOT / "examples" / "configs" / f"{name}.yaml"
    assert from_file(path) == resolve_config(task, mixer, "paper", None, [f"data.path={data}"], None, "cpu")
    assert from_file(path, "cuda") == from_file(path)
    text = path.read_text()
    assert text.startswith("# The TRM paper's ") and "\n# Data: " in text
    for launch in (f"recursia train --config examples/configs/{name}.yaml --out runs/{name}",
                   f"torchrun --nproc-per-node 4 -m recursia train --config examples/configs/{name}.yaml",
                   f"recursia train --nproc 4 --config examples/configs/{name}.yaml"):
        assert launch in text, launch
