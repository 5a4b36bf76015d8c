"""Logs and pictures: `recursia plot`, plots.plot_runs, MetricsLog (metrics.jsonl and
TensorBoard) and the run summary."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from PIL import Image

from recursia.build import make_model, make_task
from recursia.cli.train import resolve_config
from recursia.errors import CheckpointError, ConfigError
from recursia.plots import plot_metrics, plot_runs, run_labels
from recursia.train import metrics_log
from recursia.train.checkpoint import save_model
from recursia.train.metrics_log import MetricsLog, read_metrics
from recursia.train.summary import format_summary, run_summary
from tests.test_end_to_end import run_cli

FIGURES = ("loss.png", "accuracy.png", "halt_steps.png")
NAN = math.nan


def train_record(step: int, loss: float, acc: float, halted: int = 3) -> dict:
    """A training record of the current format (NaN halting metrics when nothing halted)."""
    return {"step": step, "lr": 1e-4, "loss": loss, "lm_loss": loss * 0.9, "q_halt_loss": loss * 0.1,
            "cell_acc": min(1.0, acc + 0.2), "exact_acc": acc, "halted": halted,
            "halted_exact_acc": acc if halted else NAN, "halted_steps": 2.0 + step / 100 if halted else NAN,
            "steps_per_s": 4.0 + step / 100, "samples_per_s": 32.0 + step / 10}


def eval_record(step: int, acc: float) -> dict:
    """The keys of an evaluation record."""
    return {"step": step, "test_exact_acc": acc, "test_cell_acc": min(1.0, acc + 0.1), "test_exact_acc_halt": acc,
            "test_cell_acc_halt": acc, "test_steps_halt": 3.5, "test_examples": 20,
            "test_exact_acc_per_step": [acc / 2, acc]}


def write_run(run: Path, records: list[dict], junk: bool = False) -> Path:
    """A run directory whose metrics.jsonl holds ``records`` (and a line a kill cut short)."""
    run.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r) for r in records] + (['{"step": 99, "lo'] if junk else [])
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return run


def full_records() -> list[dict]:
    """Training records every 10 steps, evaluations at 20 (best: 0.75) and 40, the final one at 50 and a summary."""
    rows = [train_record(s, 2.0 / s, s / 60, halted=0 if s == 10 else 3) for s in range(10, 51, 10)]
    rows[1] |= eval_record(20, 0.75)
    rows[3] |= eval_record(40, 0.5)
    return rows + [{"final": True} | eval_record(50, 0.75), {"summary": True, "steps": 50, "best_test_exact_acc": 0.75}]


def assert_picture(path: Path) -> None:
    """``path`` is a PNG of some size with more than one colour."""
    with Image.open(path) as img:
        assert img.format == "PNG" and img.width > 0 and img.height > 0
        lo_hi = img.convert("L").getextrema()
        assert lo_hi[0] < lo_hi[1], f"{path} is a single colour"


def test_plot_one_run_default_out(tmp_path, capsys):
    run = write_run(tmp_path / "sudoku-mlp", full_records(), junk=True)
    code, out, err = run_cli(capsys, "plot", str(run))
    assert code == 0, err
    assert str(run / "plots") in out
    for name in FIGURES:
        assert_picture(run / "plots" / name)


def test_plot_two_runs_overlaid(tmp_path, capsys, monkeypatch):
    a = write_run(tmp_path / "x" / "run", full_records())
    old = [{"step": s, "lr": 1e-4, "loss": 1.0 / s, "cell_acc": 0.5, "exact_acc": 0.1, "steps_per_s": 3.0}
           for s in (5, 10, 15)]  # an older run: fewer keys, no evaluation
    b = write_run(tmp_path / "y" / "run", old + [{"step": 15, "final": True} | eval_record(15, 0.2)])
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "plot", str(a), str(b))
    assert code == 0, err
    assert "plots" in out
    for name in FIGURES:
        assert_picture(tmp_path / "plots" / name)
    code, _, err = run_cli(capsys, "plot", str(a), str(b), "--out", str(tmp_path / "cmp"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == sorted(FIGURES)


def test_run_labels_disambiguate(tmp_path):
    assert run_labels([tmp_path / "a", tmp_path / "b"]) == ["a", "b"]
    assert run_labels([tmp_path / "x" / "run", tmp_path / "y" / "run"]) == ["x/run", "y/run"]
    assert run_labels([tmp_path / "a", tmp_path / "a"]) == ["a", "a (2)"]


def test_curve_without_data_is_skipped(tmp_path):
    old = write_run(tmp_path / "old", [{"step": s, "loss": 1.0 / s, "exact_acc": 0.1} for s in (1, 2, 3)])
    written = plot_runs([old], tmp_path / "out")
    assert [p.name for p in written] == ["loss.png", "accuracy.png"]
    assert not (tmp_path / "out" / "halt_steps.png").exists()
    for path in written:
        assert_picture(path)


def test_plot_metrics_one_run(tmp_path):
    run = write_run(tmp_path / "r", full_records())
    written = plot_metrics(run / "metrics.jsonl", run / "plots")
    assert [p.name for p in written] == list(FIGURES)
    assert plot_metrics(tmp_path / "none" / "metrics.jsonl", tmp_path / "none" / "plots") == []


@pytest.mark.parametrize("case", ["missing", "file", "no-metrics", "empty", "out-is-file"])
def test_plot_bad_input_is_one_line(tmp_path, capsys, case):
    good = write_run(tmp_path / "good", full_records())
    bad, out_dir = tmp_path / "bad", ["--out", str(tmp_path / "out")]
    args, named = [str(good), str(bad), *out_dir], bad
    if case == "file":
        bad.write_text("x")
    elif case == "no-metrics":
        bad.mkdir()
    elif case == "empty":
        args = [str(write_run(bad, [])), *out_dir]
    elif case == "out-is-file":
        named = tmp_path / "f"
        named.write_text("x")
        args = [str(good), "--out", str(named / "plots")]
    code, out, err = run_cli(capsys, "plot", *args)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert str(named) in err
    assert not (tmp_path / "out").exists() and not (good / "plots").exists()


def test_plot_runs_raises_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="run directory not found"):
        plot_runs([tmp_path / "nope"], tmp_path / "out")


def test_metrics_log_jsonl_and_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = full_records()
    with MetricsLog(tmp_path, tensorboard=True) as log:
        for r in rows:
            log.write(r)
        assert len(read_metrics(tmp_path / "metrics.jsonl")) == len(rows)  # flushed on every write
    back = read_metrics(tmp_path / "metrics.jsonl")
    assert json.dumps(back) == json.dumps(rows)  # NaN included
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    tags = set(acc.Tags()["scalars"])
    assert {"loss", "exact_acc", "samples_per_s", "test_exact_acc", "test_exact_acc_per_step/step_2"} <= tags
    assert not tags & {"step", "final", "summary", "steps"}  # booleans and the step-less summary are not scalars
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("test_exact_acc")] == [(20, 0.75), (40, 0.5), (50, 0.75)]
    assert [e.step for e in acc.Scalars("halted_steps")] == [20, 30, 40, 50]  # NaN at step 10 is left out
    assert [e.value for e in acc.Scalars("test_exact_acc_per_step/step_1")] == [0.375, 0.25, 0.375]


def test_metrics_log_resumed_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with MetricsLog(tmp_path, tensorboard=True):
        pass
    assert not (tmp_path / "tensorboard").exists()  # no event file before the first record
    with MetricsLog(tmp_path, tensorboard=True) as log:
        for step in (10, 20, 30, 40):  # killed after step 40, last checkpoint at 30
            log.write({"step": step, "loss": 1.0 / step})
    with MetricsLog(tmp_path, tensorboard=True, purge_step=31) as log:
        log.write({"step": 40, "loss": 0.5})
    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")][-2:] == [(30, pytest.approx(1 / 30)), (40, 0.5)]


def test_metrics_log_appends_without_tensorboard(tmp_path):
    write_run(tmp_path, [train_record(1, 1.0, 0.0)])
    log = MetricsLog(tmp_path, tensorboard=False)
    log.write(train_record(2, 0.5, 0.1))
    log.close()
    assert [r["step"] for r in read_metrics(tmp_path / "metrics.jsonl")] == [1, 2]
    assert not (tmp_path / "tensorboard").exists()


def test_metrics_log_tensorboard_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics_log, "tensorboard_available", lambda: False)
    with pytest.raises(ConfigError, match=r"pip install 'recursia\[tensorboard\]'") as e:
        MetricsLog(tmp_path / "run", tensorboard=True)
    assert "\n" not in str(e.value) and not (tmp_path / "run").exists()
    with MetricsLog(tmp_path / "run") as log:  # auto: metrics.jsonl only
        log.write({"step": 1, "loss": 1.0})
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_run_summary_known_best(tmp_path):
    run = write_run(tmp_path / "r", full_records(), junk=True)
    s = run_summary(run, wall_time_s=125.0)
    assert s["best_test_exact_acc"] == 0.75 and s["best_step"] == 20  # the earliest of two equal bests
    assert s["steps"] == 50 and s["wall_time_s"] == 125.0
    assert s["final_test_exact_acc"] == 0.75 and s["final_test_examples"] == 20
    assert s["steps_per_s"] == pytest.approx(4.3) and s["samples_per_s"] == pytest.approx(35.0)
    assert s["parameters"] is None and s["task"] is None  # no model.safetensors, no config.json
    assert "test_exact_acc" not in s  # the summary record is not mistaken for an evaluation
    text = format_summary(s)
    assert "best test exact 75.00% at step 20" in text and "50 steps in 2m 05s" in text
    assert "final test (20 puzzles): exact 75.00%" in text
    json.dumps(s)


def test_run_summary_of_an_old_run(tmp_path):
    run = write_run(tmp_path / "r", [{"step": 5, "loss": 1.0, "exact_acc": 0.0}])
    s = run_summary(run)
    assert s["best_test_exact_acc"] is None and s["samples_per_s"] is None and s["steps"] == 5
    assert not any(k.startswith("final_") for k in s)
    assert format_summary(s) == "5 steps"


@pytest.mark.parametrize("mixer,extra", [("mlp", []), ("attention", []), ("mlp", ["model.separate_nets=true"])])
def test_parameter_count_from_the_model_metadata(tmp_path, mixer, extra):
    sets = ["task_options.size=4", "model.hidden_size=16", "model.num_heads=2", "model.puzzle_emb_len=2", *extra]
    cfg = resolve_config("sudoku", mixer, "small", None, sets, None, "cpu")
    model = make_model(cfg, make_task("sudoku", cfg.task_options), 7)
    save_model(tmp_path, cfg, model)
    s = run_summary(write_run(tmp_path, [train_record(1, 1.0, 0.0)]))
    assert s["parameters"] == model.num_parameters() and (s["task"], s["mixer"]) == ("sudoku", mixer)
    assert f"{model.num_parameters():,} parameters" in format_summary(s)
