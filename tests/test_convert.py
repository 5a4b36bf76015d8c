"""`recursia convert official`: official checkpoints become recursia run directories."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from recursia.infer import run_steps
from recursia.train.checkpoint import load_run
from tests.conftest import shared_path
from tests.test_end_to_end import run_cli


@pytest.fixture
def one_thread():
    """One torch thread for the duration (the reference vectors were made with one), then as before."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_convert_official_checkpoint_with_compile_prefix(tmp_path, capsys, one_thread):
    ref = shared_path("reference")
    official = load_file(str(ref / "sudoku_mlp.weights.safetensors"))
    ckpt = tmp_path / "step_100.pt"
    torch.save({f"_orig_mod.model.{k}": v for k, v in official.items()}, ckpt)
    out = tmp_path / "run"
    code, stdout, err = run_cli(capsys, "convert", "official", str(ckpt), "--arch-config",
                                str(ref / "sudoku_mlp.config.json"), "--out", str(out))
    assert code == 0, err
    assert "397,826 parameters" in stdout
    run = load_run(out)
    assert run.cfg.task == "sudoku" and run.cfg.model.mixer == "mlp" and run.cfg.model.T == 2
    v = load_file(str(ref / "sudoku_mlp.vectors.safetensors"))
    trace = run_steps(run.model, v["inputs"].long(), v["puzzle_identifiers"].long(), max_steps=4)
    for n in range(4):
        assert torch.equal(trace.preds[n], v[f"step{n + 1}.logits"].argmax(-1))
        assert (trace.q_halt[n] - v[f"step{n + 1}.q_halt_logits"]).abs().max() < 1e-4


def test_convert_errors_are_one_line(tmp_path, capsys):
    ref = shared_path("reference")
    code, _, err = run_cli(capsys, "convert", "official", str(tmp_path / "none.pt"), "--arch-config",
                           str(ref / "sudoku_mlp.config.json"), "--out", str(tmp_path / "o"))
    assert code == 2 and "checkpoint not found" in err
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    code, _, err = run_cli(capsys, "convert", "official", str(bad), "--arch-config",
                           str(ref / "sudoku_mlp.config.json"), "--out", str(tmp_path / "o"))
    assert code == 2 and "not a torch checkpoint of plain tensors" in err and err.count("\n") == 1
    assert "weights_only" not in err  # torch's advice to load unsafely is never passed on
    code, _, err = run_cli(capsys, "convert", "official", str(ref / "maze_attn.weights.safetensors"),
                           "--arch-config", str(ref / "maze_attn.config.json"), "--out", str(tmp_path / "m"))
    assert code == 2 and "pass --task" in err


def test_convert_official_attention_checkpoint_for_the_maze_task(tmp_path, capsys, one_thread):
    ref = shared_path("reference")
    out = tmp_path / "maze"
    code, _, err = run_cli(capsys, "convert", "official", str(ref / "maze_attn.weights.safetensors"),
                           "--arch-config", str(ref / "maze_attn.config.json"), "--out", str(out),
                           "--task", "maze", "--set", "size=6")
    assert code == 0, err
    run = load_run(out)
    assert run.cfg.model.mixer == "attention" and run.task.seq_len == 36
    v = load_file(str(ref / "maze_attn.vectors.safetensors"))
    trace = run_steps(run.model, v["inputs"].long(), v["puzzle_identifiers"].long(), max_steps=4)
    for n in range(4):
        assert torch.equal(trace.preds[n], v[f"step{n + 1}.logits"].argmax(-1))


@pytest.mark.parametrize("value,needle", [
    ("big", "hidden_size: Input should be a valid integer"),
    ("-64", "hidden_size: Input should be greater than 0"),
])
def test_convert_bad_arch_values_are_one_line(tmp_path, capsys, value, needle):
    ref = shared_path("reference")
    arch = json.loads((ref / "sudoku_mlp.config.json").read_text())
    arch["config_dict"]["hidden_size"] = value if value == "big" else int(value)
    path = tmp_path / "arch.json"
    path.write_text(json.dumps(arch))
    code, _, err = run_cli(capsys, "convert", "official", str(ref / "sudoku_mlp.weights.safetensors"),
                           "--arch-config", str(path), "--out", str(tmp_path / "o"))
    assert code == 2 and needle in err and str(path) in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def _arch_file(tmp_path, ref_name: str, **changes) -> str:
    """The reference ``ref_name``'s official arch config with ``changes`` (None: key removed), as a file."""
    arch = json.loads((shared_path("reference") / f"{ref_name}.config.json").read_text())["config_dict"]
    for key, value in changes.items():
        if value is None:
            arch.pop(key, None)
        else:
            arch[key] = value
    path = tmp_path / f"{ref_name}-arch.json"
    path.write_text(json.dumps(arch))
    return str(path)


def test_trm_puzzle_emb_len_0_is_the_official_ceil_rule(tmp_path, capsys):
    ref = shared_path("reference")
    code, stdout, err = run_cli(capsys, "convert", "official", str(ref / "maze_attn.weights.safetensors"),
                                "--arch-config", _arch_file(tmp_path, "maze_attn", puzzle_emb_len=0),
                                "--out", str(tmp_path / "m"), "--task", "maze", "--set", "size=6")
    assert code == 0, err
    assert "prefix 1," in stdout and load_run(tmp_path / "m").model.prefix_len == 1
    # the MLP mixer's weights are sized for 16 prefix positions: with 1 they do not fit
    code, _, err = run_cli(capsys, "convert", "official", str(ref / "sudoku_mlp.weights.safetensors"),
                           "--arch-config", _arch_file(tmp_path, "sudoku_mlp", puzzle_emb_len=0),
                           "--out", str(tmp_path / "s"))
    assert code == 2 and err.count("\n") == 1 and "do not fit the configured model" in err and "shape of" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("name,changes,needle", [
    ("hrm_sudoku", {"name": "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1"},
     "says TRM, but the checkpoint is HRM's (it has inner.H_level weights)"),
    ("sudoku_mlp", {"name": "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1"}, "says HRM, but the checkpoint is TRM's"),
    ("hrm_sudoku", {"H_cycles": None}, "H_cycles: required by the official HRM config, missing"),
    ("hrm_sudoku", {"L_layers": 3}, "missing ['net.layers.2."),
    ("hrm_sudoku", {"pos_encodings": "learned"}, "'learned' (a learned position table) is not supported"),
    ("hrm_sudoku", {"pos_encodings": "none"}, "pos_encodings: 'none' is not an official HRM setting"),
    ("hrm_sudoku", {"seq_len": 64}, "seq_len 64 does not fit task sudoku"),
])
def test_hrm_conversions_that_do_not_fit_are_one_line(tmp_path, capsys, name, changes, needle):
    ref = shared_path("reference")
    code, _, err = run_cli(capsys, "convert", "official", str(ref / f"{name}.weights.safetensors"),
                           "--arch-config", _arch_file(tmp_path, name, **changes), "--out", str(tmp_path / "o"),
                           "--task", "sudoku")
    assert code == 2 and needle in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()
