"""`recursia ablate`: the TRM paper's ablation rows as configs, trained into one table, resumable."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from recursia.ablations import BY_NAME, variant_config
from recursia.build import make_model, make_task
from recursia.cli.ablate import _read_state, plan
from recursia.errors import ConfigError
from tests.test_end_to_end import data4, run_cli  # noqa: F401 (a fixture)


def tiny(data) -> list[str]:
    """``--set`` options that make every row a tiny model on the 4x4 test data."""
    sets = ["task_options.size=4", "model.hidden_size=16", "model.num_heads=2", "train.compile=false",
            "train.dtype=float32", "train.batch_size=8", "train.eval_limit=16", "train.log_every=5", "train.checkpoint_every=100000",
            f"data.path={data}"]
    return [arg for item in sets for arg in ("--set", item)]


def test_ablate_trains_the_rows_and_writes_one_table(data4, tmp_path, capsys):
    out = tmp_path / "abl"
    code, stdout, err = run_cli(capsys, "ablate", "sudoku", "--out", str(out), "--steps", "2",
                                "--only", "trm,1-step,hrm,single-z", *tiny(data4))
    assert code == 0, err
    table = json.loads((out / "ablations.json").read_text())
    assert [e["name"] for e in table] == ["trm", "1-step", "hrm", "single-z"]  # the paper's order
    by = {e["name"]: e for e in table}
    assert all(e["status"] == "done" and 0 <= e["exact_acc"] <= 1 and e["steps"] == 2 for e in table)
    assert by["hrm"]["forward_passes"] == 2 and by["hrm"]["layers"] == "4+4" and by["hrm"]["mixer"] == "attention"
    assert by["trm"]["forward_passes"] == 1 and by["hrm"]["parameters"] > by["trm"]["parameters"]
    assert by["trm"]["paper_exact_acc"] == 87.4 and by["hrm"]["paper_exact_acc"] == 55.0
    assert all(e["wall_time_s"] > 0 for e in table)
    assert all(e["early_step"] == 2 and e["early_exact_acc"] == e["exact_acc"] for e in table)  # only the final eval
    md = (out / "ablations.md").read_text()
    assert "| HRM | 55.0 |" in md and "--steps 2" in md and md in stdout
    # a second call trains nothing and prints the same table
    code, stdout, _ = run_cli(capsys, "ablate", "sudoku", "--out", str(out), "--steps", "2",
                              "--only", "trm,1-step,hrm,single-z", *tiny(data4))
    assert code == 0 and "already finished: trm, 1-step, hrm, single-z" in stdout and "started" not in stdout


def test_a_stopped_ablate_continues_where_it_was(data4, tmp_path):
    out = tmp_path / "abl"
    cmd = [sys.executable, "-m", "recursia", "ablate", "sudoku", "--out", str(out), "--steps", "300",
           "--only", "trm,no-ema", *tiny(data4)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        metrics = out / "trm" / "metrics.jsonl"
        while not (metrics.is_file() and metrics.read_text().strip()):
            assert time.time() < deadline and proc.poll() is None, "the first row did not start"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)  # the row saves a checkpoint and stops
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and "run the same command again to continue" in err
    assert not (out / "no-ema").exists()  # the second row never started
    spent = json.loads((out / "ablate.json").read_text())["wall_time_s"]["trm"]
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "resuming" in (out / "logs" / "trm.log").read_text()
    table = {e["name"]: e for e in json.loads((out / "ablations.json").read_text())}
    assert table["trm"]["status"] == table["no-ema"]["status"] == "done"
    assert table["trm"]["wall_time_s"] > spent  # both segments counted
    rows = [json.loads(line) for line in (out / "trm" / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if not (r.get("final") or r.get("summary"))]
    assert steps == sorted(set(steps)) and steps[-1] == 300


def test_ablate_errors_are_one_line(data4, tmp_path, capsys):
    code, _, err = run_cli(capsys, "ablate", "sudoku", "--out", str(tmp_path / "a"), "--only", "trm,bogus")
    assert code == 2 and "--only bogus: no such ablation" in err and err.count("\n") == 1
    out = tmp_path / "b"
    assert run_cli(capsys, "ablate", "sudoku", "--out", str(out), "--steps", "1", "--only", "trm", *tiny(data4))[0] == 0
    code, _, err = run_cli(capsys, "ablate", "sudoku", "--out", str(out), "--steps", "3", "--only", "trm", *tiny(data4))
    assert code == 2 and "holds the ablations of `recursia ablate sudoku --preset small --steps 1" in err
    assert err.count("\n") == 1


def test_the_hrm_row_is_skipped_for_a_task_without_hrm_presets(monkeypatch, tmp_path):
    task_cls = type(make_task("sudoku", {}))
    presets = task_cls.presets
    monkeypatch.setattr(task_cls, "presets", lambda self: {k: v for k, v in presets(self).items()
                                                           if not k.startswith("hrm")})
    rows = {r.variant.name: r for r in plan("sudoku", "small", None, tmp_path, "cpu", ["trm", "hrm"], [])}
    assert rows["hrm"].cfg is None and "skipped" in rows["hrm"].why and "hrm-small" in rows["hrm"].why
    assert rows["trm"].cfg is not None
    monkeypatch.undo()  # with the preset, a bad setting of the HRM row is an error, not a skip
    with pytest.raises(ConfigError, match="hidden_size"):
        plan("sudoku", "small", None, tmp_path, "cpu", ["hrm"], ["model.hidden_size=-1"])
    (tmp_path / "ablate.json").write_text("{")
    with pytest.raises(ConfigError, match="ablate.json"):
        _read_state(tmp_path)


@pytest.mark.parametrize("name,depth,passes,params", [
    ("trm", 42, 1, 5_028_866), ("act", 42, 2, 5_028_866), ("separate", 42, 1, None), ("no-ema", 42, 1, 5_028_866),
    ("4-layers", 48, 1, None), ("attention", 42, 1, 6_828_034), ("less-recursion", 12, 1, 5_028_866),
    ("1-step", 42, 1, 5_028_866), ("hrm", 24, 2, 27_275_266),
])
def test_paper_scale_rows_are_table_1(name, depth, passes, params):
    """At the paper's scale the rows are the paper's settings: its effective depths, forward passes and sizes."""
    cfg = variant_config("sudoku", BY_NAME[name], "paper", "cpu")
    assert cfg.model.effective_depth() == depth and cfg.model.forward_passes() == passes
    model = make_model(cfg, make_task("sudoku", cfg.task_options), 1)
    if params is not None:
        assert model.num_parameters() == params
    if name in ("separate", "4-layers"):  # the paper's "10M": twice the blocks of TRM
        assert 9_900_000 < model.num_parameters() < 10_100_000
    assert cfg.train.ema == (name not in ("no-ema", "hrm"))
