"""`recursia bench`: the FLOP count of DESIGN section 8 against the products a step
really runs, the JSON fields of every bench command, the markdown section, and the
thread governor of `train.threads: auto`."""

from __future__ import annotations

import json
import sys

import pytest
import torch

from recursia.bench.flops import step_flops
from recursia.bench.measure import model_matmuls
from recursia.bench.report import BEGIN, END, FIELDS, markdown, write_markdown
from recursia.bench.workload import Mode, Spec
from recursia.build import make_model, make_task
from recursia.cli.app import main
from recursia.cli.train import resolve_config
from recursia.errors import ConfigError
from recursia.train.threads import ThreadGovernor

TINY = ["task_options.size=4", "model.hidden_size=32", "model.num_heads=2", "model.T=2", "model.n=2",
        "model.halt_max_steps=3", "model.swiglu_multiple=16"]
BENCH_TINY = [a for s in TINY for a in ("--set", s)] + ["--preset", "small", "--batch-size", "8"]


def model_of(mixer: str, sets: list[str], preset: str = "small"):
    cfg = resolve_config("sudoku", mixer, preset, None, sets, None, "cpu")
    return make_model(cfg, make_task(cfg.task, cfg.task_options), 1)


@pytest.mark.parametrize("sets", [[], ["model.gradient=one_step", "model.net=separate", "model.n_layers_y=1"]])
def test_mlp_step_flops_are_the_matrix_products_a_training_step_runs(sets):
    model = model_of("mlp", TINY + sets)
    batch = 4
    recorded = sum(count * shape.flops for shape, count in model_matmuls(model, batch).items())
    assert step_flops(model).train * batch == recorded


def test_attention_step_flops_add_scores_and_values_to_the_products():
    model = model_of("attention", TINY)
    batch, s, d = 4, model.total_len, model.cfg.hidden_size
    recorded = sum(count * shape.flops for shape, count in model_matmuls(model, batch).items())
    calls = len(model.schedule) + 2 * model.grad_updates  # forward of every update, backward (2x) of the last ones
    attention = 4 * s * s * d * model.cfg.n_layers * calls * batch  # the fused CPU kernel is not an aten matmul
    assert step_flops(model).train * batch == recorded + attention


def test_paper_sudoku_mlp_step_costs_as_the_issue_measured():
    """42.7 GFLOP per sample and training step: 3.04 samples x steps/s at 78% of 166 GFLOP/s."""
    model = model_of("mlp", [], "paper")
    assert abs(step_flops(model).train / 1e9 - 42.72) < 0.01


def run_json(capsys, *args: str) -> list[dict]:
    try:
        main(["bench", *args, "--json"])
    except SystemExit as e:
        assert e.code == 0, capsys.readouterr().err
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines
    for line in lines:
        assert list(line)[:len(FIELDS)] == list(FIELDS)
        assert line["threads"] >= 1 and line["peak_rss_mb"] > 0
    return lines


def test_bench_train_json(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path))
    lines = run_json(capsys, "train", *BENCH_TINY, "--modes", "fp32,bf16", "--rounds", "1", "--steps", "1",
                     "--warmup", "0")
    assert [line["mode"] for line in lines] == ["fp32", "bf16"]
    for line in lines:
        assert line["bench"] == "train" and line["batch"] == 8 and line["compile"] is False
        assert line["samples_steps_per_s"] > 0 and line["peak_gflop_per_s"] > 0
        assert line["mfu"] == pytest.approx(line["model_gflop_per_s"] / line["peak_gflop_per_s"])
        assert line["model_gflop_per_s"] == pytest.approx(line["samples_steps_per_s"] * line["gflop_per_sample_step"])


def test_bench_peak_json(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path))
    lines = run_json(capsys, "peak", *BENCH_TINY, "--rounds", "1")
    assert [line["dtype"] for line in lines] == ["fp32", "bf16"]
    assert all(line["peak_gflop_per_s"] > 0 and line["matmul_shapes"] > 0 for line in lines)


def test_bench_infer_json_with_solve(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path))
    lines = run_json(capsys, "infer", *BENCH_TINY[:-2], "--modes", "fp32", "--limit", "8", "--eval-batch", "4",
                     "--rounds", "1")
    evals = [line for line in lines if line["bench"] == "infer"]
    assert [line["mode"] for line in evals] == ["fp32, halting full", "fp32, halting early"]
    assert all(line["puzzles_per_s"] > 0 and line["mean_steps"] <= 3 for line in evals)
    (solve,) = [line for line in lines if line["bench"] == "solve"]  # examples/puzzles/sudoku4.json fits
    startup = [line for line in lines if line["bench"] == "startup"]
    assert [line["mode"] for line in startup] == ["recursia --help", "recursia plugins", "recursia train --help"]
    assert all(0 < line["seconds"] < 30 for line in startup)
    assert solve["seconds"] > solve["import_torch_seconds"] > 0


def test_bench_contention_json(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path))
    lines = run_json(capsys, "contention", *BENCH_TINY, "--threads", "default", "--rounds", "1", "--steps", "1",
                     "--warmup", "0")
    assert [line["ratio"] for line in lines][0] == 1.0 and lines[1]["ratio"] > 0
    assert "with one busy spin process" in lines[1]["what"]


def test_bench_peers_needs_the_peer_package(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tiny_recursive_model", None)  # as if not installed
    with pytest.raises(SystemExit) as e:
        main(["bench", "peers", *BENCH_TINY])
    assert e.value.code == 2
    assert "pip install 'recursia[bench]'" in capsys.readouterr().err


def test_bench_peers_json(capsys, tmp_path, monkeypatch):
    pytest.importorskip("tiny_recursive_model", reason="the bench extra (tiny-recursive-model) is not installed")
    monkeypatch.setenv("RECURSIA_CACHE", str(tmp_path))
    lines = run_json(capsys, "peers", *BENCH_TINY, "--best", "bf16", "--rounds", "1", "--steps", "1",
                     "--warmup", "0")
    assert [line["mode"] for line in lines] == ["fp32", "fp32", "bf16"]
    assert lines[0]["ratio"] == 1.0 and all(line["samples_steps_per_s"] > 0 for line in lines)


def test_bad_bench_options_are_one_line(capsys):
    for args, message in ((["train", "--modes", "fp16"], "--modes fp16: expected fp32, bf16"),
                          (["contention", "--threads", "many"], "--threads many: expected auto"),
                          (["infer", "--modes", "bf16+compile"], "evaluation runs eagerly")):
        with pytest.raises(SystemExit) as e:
            main(["bench", *args])
        assert e.value.code == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_markdown_section_replaces_only_its_own_part(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n## Other\n\nkept\n")
    result = {"bench": "peak", "what": "x", "mode": "fp32", "dtype": "fp32", "threads": 2, "peak_rss_mb": 1.0,
              "peak_gflop_per_s": 123.4, "runs": [123.4]}
    write_markdown(doc, markdown([result], "recursia bench all", 60.0))
    first = doc.read_text()
    assert first.startswith("# Benchmarks\n\nintro") and "kept" in first and "| 123.4 |" in first
    write_markdown(doc, markdown([{**result, "peak_gflop_per_s": 99.0, "runs": [99.0]}], "recursia bench all", 60.0))
    second = doc.read_text()
    assert second.count(BEGIN) == second.count(END) == 1 and "| 99.0 |" in second and "123.4 |" not in second
    doc.write_text(f"{BEGIN}\nno end\n")
    with pytest.raises(ConfigError, match="one of the generated-section markers"):
        write_markdown(doc, markdown([result], "c", 1.0))


def test_mode_names():
    assert [Mode.parse(t).name for t in ("fp32", "bf16", "fp32+compile", "bf16+compile")] == \
        ["fp32", "bf16", "fp32+compile", "bf16+compile"]
    assert Mode.parse("bf16").torch_dtype is torch.bfloat16
    assert "batch 8" in Spec("sudoku", "small", "mlp", 8).describe()


class FakeMachine:
    """A clock and CPU counters the test moves by hand."""

    def __init__(self):
        self.now, self.busy_total, self.own_total = 0.0, 0.0, 0.0

    def advance(self, seconds: float, own_cores: float, other_cores: float) -> None:
        self.now += seconds
        self.own_total += own_cores * seconds
        self.busy_total += (own_cores + other_cores) * seconds


def test_governor_gives_a_busy_neighbour_its_core_and_takes_it_back(monkeypatch):
    set_to: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", set_to.append)
    m = FakeMachine()
    gov = ThreadGovernor(2, interval=3.0, clock=lambda: m.now, busy=lambda: m.busy_total, own=lambda: m.own_total)
    m.advance(1.0, 2.0, 1.0)
    assert not gov.check() and gov.threads == 2  # not yet an interval
    m.advance(2.5, 1.4, 0.6)  # a neighbour took most of a core: measured once
    assert not gov.check() and gov.threads == 2 and gov.others == pytest.approx((1.0 + 0.6 * 2.5) / 3.5)
    m.advance(3.0, 1.4, 0.6)  # twice in a row
    assert gov.check() and gov.threads == 1 and gov.contended and set_to == [1]
    assert gov.describe() == "busy machine: 1 of 2 threads"
    m.advance(3.0, 1.0, 1.0)
    assert not gov.check() and gov.threads == 1  # still there
    m.advance(3.0, 2.0, 0.0)  # a pause of one interval is not followed
    assert not gov.check()
    m.advance(3.0, 1.0, 1.0)
    assert not gov.check() and gov.threads == 1
    m.advance(3.0, 1.0, 0.1)
    m.advance(3.0, 1.0, 0.1)
    assert not gov.check()  # gone: the two intervals were one measurement
    m.advance(3.0, 2.0, 0.0)
    assert gov.check() and gov.threads == 2 and not gov.contended and set_to == [1, 2]
    for _ in range(2):
        m.advance(3.0, 2.0, 0.3)  # a little background work does not count
        assert not gov.check() and gov.threads == 2


def test_governor_without_proc_stat_keeps_the_threads(monkeypatch):
    monkeypatch.setattr(torch, "set_num_threads", lambda n: pytest.fail("threads changed"))
    clock = iter([0.0, 10.0, 20.0])
    gov = ThreadGovernor(2, clock=lambda: next(clock), busy=lambda: None, own=lambda: 0.0)
    assert not gov.check() and not gov.check() and gov.threads == 2


def test_a_governor_only_for_auto_threads_on_the_cpu_in_one_process():
    from recursia.train.threads import ThreadGovernor, governor_for

    assert isinstance(governor_for("auto", "cpu"), ThreadGovernor)
    assert governor_for("auto", "cpu").base == torch.get_num_threads()
    for args in ((None, "cpu"), (2, "cpu"), ("auto", "cuda"), ("auto", "cpu", 2)):
        assert governor_for(*args) is None, args
