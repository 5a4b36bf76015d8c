"""Config: dotted overrides, merging, validation with every error at once, config files."""

from __future__ import annotations

import json

import pytest

from recursia import config as C
from recursia.errors import ConfigError


def _resolved(*overrides: str) -> C.RunConfig:
    data: dict = {"task": "sudoku"}
    for item in overrides:
        data = C.deep_merge(data, C.parse_override(item))
    return C.validate(data)


# --- parse_override ---------------------------------------------------------------------

@pytest.mark.parametrize("item,expected", [
    ("train.steps=100", {"train": {"steps": 100}}),
    ("train.lr=0.5", {"train": {"lr": 0.5}}),
    ("train.lr=1.5e-3", {"train": {"lr": 1.5e-3}}),
    ("model.mixer_options.rope=false", {"model": {"mixer_options": {"rope": False}}}),
    ("task=sudoku", {"task": "sudoku"}),
    (" model.mixer = attention", {"model": {"mixer": "attention"}}),
    ("data.path=", {"data": {"path": ""}}),
    ("data.path=a=b", {"data": {"path": "a=b"}}),
    ("train.eval_limit=null", {"train": {"eval_limit": None}}),
    ("task_options.sizes=[4, 9]", {"task_options": {"sizes": [4, 9]}}),
    ("data.path=[unclosed", {"data": {"path": "[unclosed"}}),  # bad YAML: kept as the raw text
])
def test_parse_override(item, expected):
    assert C.parse_override(item) == expected


@pytest.mark.parametrize("item", ["train.lr", "=3", "train..lr=1", ".lr=1", "train.=1", " =1"])
def test_parse_override_errors_name_the_item(item):
    with pytest.raises(ConfigError) as info:
        C.parse_override(item)
    assert repr(item) in str(info.value)


@pytest.mark.parametrize("raw,value", [("3e-4", 3e-4), ("1E-3", 1e-3), ("-3e-4", -3e-4), ("+2e5", 2e5)])
def test_parse_override_exponent_floats(raw, value):
    out = C.parse_override(f"train.lr={raw}")
    assert isinstance(out["train"]["lr"], float) and out["train"]["lr"] == value


@pytest.mark.parametrize("raw,value", [("3e-4", 3e-4), ("1E-3", 1e-3), ("-3e-4", -3e-4), ("1.0e-4", 1e-4)])
def test_validation_still_coerces_exponent_override_of_a_float_field(raw, value):
    cfg = _resolved(f"train.lr={raw}", f"train.puzzle_emb_lr={raw}")
    assert isinstance(cfg.train.lr, float) and cfg.train.lr == value
    assert cfg.train.puzzle_emb_lr == value


def test_exponent_override_in_free_form_options_is_a_float():
    cfg = _resolved("model.mixer_options.dropout=1e-3")
    assert cfg.model.mixer_options["dropout"] == 1e-3


def test_override_then_validate_end_to_end():
    cfg = _resolved("model.hidden_size=64", "train.ema=false", "model.mixer=attention", "data.path=/x")
    assert cfg.model.hidden_size == 64 and cfg.train.ema is False
    assert cfg.model.mixer == "attention" and cfg.data.path == "/x"
    # the untouched defaults stay
    assert cfg.model.n_layers == 2 and cfg.train.lr == 1e-4


# --- deep_merge -------------------------------------------------------------------------

def test_deep_merge_recurses_and_replaces():
    base = {"a": {"b": 1, "c": {"d": 2, "e": 3}}, "f": [1, 2], "g": {"h": 1}}
    over = {"a": {"c": {"d": 20}, "x": 5}, "f": [3], "g": 7, "new": {"k": 1}}
    out = C.deep_merge(base, over)
    assert out == {"a": {"b": 1, "c": {"d": 20, "e": 3}, "x": 5}, "f": [3], "g": 7, "new": {"k": 1}}


def test_deep_merge_dict_replaces_scalar_and_inputs_are_not_mutated():
    base = {"a": {"b": {"c": 1}}, "s": 1}
    over = {"a": {"b": {"d": 2}}, "s": {"t": 1}}
    snapshot = json.dumps([base, over], sort_keys=True)
    out = C.deep_merge(base, over)
    assert out == {"a": {"b": {"c": 1, "d": 2}}, "s": {"t": 1}}
    assert json.dumps([base, over], sort_keys=True) == snapshot
    out["a"]["b"]["c"] = 99
    assert base["a"]["b"]["c"] == 1


def test_deep_merge_empty():
    assert C.deep_merge({}, {"a": 1}) == {"a": 1}
    assert C.deep_merge({"a": {"b": 1}}, {}) == {"a": {"b": 1}}


# --- validate ---------------------------------------------------------------------------

def test_validate_defaults():
    cfg = C.validate({"task": "sudoku"})
    assert cfg.task == "sudoku" and cfg.model.mixer == "mlp" and cfg.train.optimizer == "adam_atan2"
    assert cfg.model.T == 3 and cfg.model.n == 6 and cfg.model.halt_max_steps == 16


def test_validate_reports_every_error_on_one_line():
    data = {
        "task": "sudoku",
        "colour": "red",                                   # unknown, top level
        "model": {"hiden_size": 64, "n_layers": "two"},    # unknown + wrong type
        "train": {"lr": 1e-4, "optimiser": "sgd", "loss": "hinge"},  # unknown + bad literal
        "data": {"pth": "/x"},                             # unknown, third section
    }
    with pytest.raises(ConfigError) as info:
        C.validate(data, where="run.yaml")
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith("run.yaml: ")
    for piece in ("colour: unknown key", "model.hiden_size: unknown key", "model.n_layers:",
                  "train.optimiser: unknown key", "train.loss:", "data.pth: unknown key"):
        assert piece in msg, piece
    assert msg.count(";") == 5  # six problems, all reported


def test_validate_missing_task_and_constraints():
    with pytest.raises(ConfigError) as info:
        C.validate({"model": {"hidden_size": 0, "halt_exploration_prob": 2}, "train": {"ema_rate": 1.0}})
    msg = str(info.value)
    for piece in ("task:", "model.hidden_size:", "model.halt_exploration_prob:", "train.ema_rate:"):
        assert piece in msg, piece


def test_save_and_load_json_round_trip(tmp_path):
    cfg = _resolved("model.hidden_size=64", "train.lr=3e-4", "model.rms_norm_eps=1e-6",
                    "task_options.size=6")
    C.save(cfg, tmp_path / "config.json")
    back = C.load_json(tmp_path / "config.json")
    assert back == cfg
    assert back.model.rms_norm_eps == 1e-6


def test_load_json_errors(tmp_path):
    with pytest.raises(ConfigError, match="run config not found"):
        C.load_json(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="bad.json"):
        C.load_json(tmp_path / "bad.json")
    (tmp_path / "extra.json").write_text(json.dumps({"task": "s", "oops": 1}))
    with pytest.raises(ConfigError, match="extra.json: oops: unknown key"):
        C.load_json(tmp_path / "extra.json")


# --- load_file --------------------------------------------------------------------------

def test_load_file_yaml_and_json(tmp_path):
    (tmp_path / "a.yaml").write_text("task: sudoku\nmodel:\n  hidden_size: 64\ntrain:\n  lr: 0.001\n")
    assert C.load_file(tmp_path / "a.yaml") == {"task": "sudoku", "model": {"hidden_size": 64},
                                                "train": {"lr": 0.001}}
    data = {"task": "sudoku", "train": {"steps": 5, "ema": False}}
    (tmp_path / "b.json").write_text(json.dumps(data, indent=2))
    assert C.load_file(str(tmp_path / "b.json")) == data


def test_load_file_missing(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        C.load_file(path)
    assert str(path) in str(info.value) and "not found" in str(info.value)
    with pytest.raises(ConfigError, match="is a folder, expected a config file"):
        C.load_file(tmp_path)  # a directory is not a config file


def test_load_file_bad_yaml_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("task: sudoku\nmodel: {hidden_size: 64\ntrain: [\n")
    with pytest.raises(ConfigError) as info:
        C.load_file(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and "not valid YAML" in msg and "\n" not in msg


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_load_file_non_mapping(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        C.load_file(path)
    assert str(path) in str(info.value) and "mapping" in str(info.value)


def test_load_file_json_with_tabs(tmp_path):
    data = {"task": "sudoku", "train": {"steps": 5}}
    (tmp_path / "tabs.json").write_text(json.dumps(data, indent="\t"))
    assert C.load_file(tmp_path / "tabs.json") == data


def test_load_file_json_exponent_numbers(tmp_path):
    data = {"task": "sudoku", "task_options": {"rate": 1e-05}, "model": {"mixer_options": {"big": 1e20}}}
    (tmp_path / "exp.json").write_text(json.dumps(data))
    assert C.load_file(tmp_path / "exp.json") == data
