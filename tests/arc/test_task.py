"""The ARC task class: options, puzzles, pictures, adaptation, presets, parameter count, hooks."""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pytest
import torch
from pydantic import ValidationError

import recursia_arc
from recursia.config import ModelConfig, RunConfig
from recursia.data.augment import AugmentationRecord, compose_invert
from recursia.errors import PuzzleError, RecursiaError
from recursia.model import RecursiveModel
from recursia.plugins import DEFAULT_PLUGINS, get_registry, load_plugins
from recursia.task import Task
from recursia.vote import Predictions, vote
from recursia_arc import grid
from recursia_arc.png import PALETTE
from recursia_arc.task import ArcTask
from tests.arc.test_grid import TASK


def task(**options) -> ArcTask:
    return ArcTask(ArcTask.Options(**options))


def test_options_and_shapes():
    t = ArcTask()
    assert (t.vocab_size, t.seq_len, t.canvas, t.options.set) == (12, 900, 30, "arc1")
    assert task(canvas=11).seq_len == 121
    assert ArcTask.name == "arc" and ArcTask.votes is True and ArcTask.default_mixer == "attention"
    assert t.describe() == "arc arc1, canvas 30x30"
    assert task(canvas=11, max_size=10, same_shape=True).describe() == \
        "arc arc1, canvas 11x11, grids <= 10x10, same shape"
    for bad in ({"canvas": 1}, {"canvas": 31}, {"set": "arc3"}, {"tasks": 0}, {"size": 9}):
        with pytest.raises(ValidationError):
            ArcTask.Options(**bad)


def test_compatible_compares_the_canvas_only():
    t = task(canvas=11)
    assert t.compatible({"canvas": 11, "set": "arc2", "max_size": 10, "same_shape": True, "tasks": 5}) is None
    assert "11x11" in t.compatible({"canvas": 30}) and "30x30" in t.compatible({"canvas": 30})
    assert "not ARC options" in t.compatible({"size": 9})
    assert t.options_for_puzzle(TASK) == t.options.model_dump()


def test_parse_check_decode_render():
    t = task(canvas=5)
    tokens = t.parse(TASK)
    assert tokens.shape == (25,) and tokens.dtype == np.int64
    assert tokens.reshape(5, 5)[0].tolist() == [2, 3, 4, 1, 0] and tokens.reshape(5, 5)[1, :3].tolist() == [1, 1, 1]
    train, tests, outputs = t.parse_task(TASK)
    assert len(train) == 1 and len(tests) == 2
    label = grid.encode_grid(outputs[0], 5)
    assert t.check(tokens, label) is False  # no checker without the expected output
    assert t.decode(tokens, label) == [[2, 1, 0]] and t.answer_form(label).tolist() == [[2, 1, 0]]
    assert t.decode(tokens, np.zeros(25, np.int64)) == []
    assert t.render(tokens) == "012" and t.render(tokens, label) == "210"
    changed = np.zeros(25, bool)
    changed[1] = True
    assert t.render(tokens, label, changed=changed) == "2 1*0"
    assert t.render_form(np.array([[1, 2], [3, 4]])) == "12\n34"
    with pytest.raises(PuzzleError, match=r"test\[0\]\.input: a 1x3 grid does not fit the 2x2 canvas"):
        task(canvas=2).parse(TASK)
    with pytest.raises(PuzzleError, match="an ARC task is an object"):
        t.parse("0120")


def _pixels(path) -> np.ndarray:
    return matplotlib.image.imread(path)[..., :3].reshape(-1, 3)


def _has(pixels: np.ndarray, colour: np.ndarray) -> bool:
    return bool((np.abs(pixels - colour).max(axis=1) < 0.02).any())


def test_pictures(tmp_path):
    t = task(canvas=5)
    tokens = t.parse(TASK)
    label = grid.encode_grid(np.array([[8, 9]]), 5)
    t.render_png(tokens, label, tmp_path / "pair.png")
    pixels = _pixels(tmp_path / "pair.png")
    for colour in (0, 1, 2, 8, 9):  # the input's colours and the answer's, in the ARC palette
        assert _has(pixels, PALETTE[colour]), colour
    assert not _has(pixels, PALETTE[6])
    t.render_png(tokens, None, tmp_path / "input.png")
    inputs = np.stack([t.parse(TASK), grid.encode_grid(np.array([[5]]), 5)])
    t.render_attempts_png(inputs, [[np.array([[2, 1, 0]])], [np.zeros((0, 0), np.uint8)]],
                          [np.array([[2, 1, 0]]), None], tmp_path / "attempts.png")
    assert _has(_pixels(tmp_path / "attempts.png"), PALETTE[5])
    t.render_attempts_png(inputs[:1], [[np.array([[2, 1, 0]]), np.array([[7, 7, 7]])]], [None],
                          tmp_path / "two.png")
    assert _has(_pixels(tmp_path / "two.png"), PALETTE[7])  # the second attempt is drawn too


def test_adaptation_set_versions_invert_and_vote():
    t = task(canvas=6)
    demos = t.adaptation_set(TASK, versions=4, seed=0)
    v = demos.versions
    assert v == 4 and demos.augmentations == ["arc.dihedral_colour"] and demos.params[0] is None
    assert demos.demo_inputs.shape == (4 * 1, 36) and demos.demo_labels.shape == (4, 36)
    assert demos.demo_version.tolist() == [0, 1, 2, 3]
    split = demos.test
    assert split.inputs.shape == (4 * 2, 36) and split.puzzle_indices.tolist() == [0, 2, 4, 6, 8]
    assert split.group_indices.tolist() == [0, 4] and split.puzzle_identifiers.tolist() == [0, 1, 2, 3]
    record = AugmentationRecord(demos.augmentations, demos.params)
    augs = record.resolve(t.augmentations(), "x")
    _, tests, outputs = grid.parse_task(TASK)
    for p in range(v):
        for j in range(2):
            row = 2 * p + j
            for tokens, want in ((split.inputs[row], tests[j]), (split.labels[row], outputs[j])):
                form = t.answer_form(tokens)
                back = form if demos.params[p] is None else compose_invert(augs, form, demos.params[p])
                assert np.array_equal(back, want)
    # perfect predictions vote the expected answers to the top
    result = vote(t, split, record, [Predictions(split.labels.astype(np.int64), np.full(8, 0.5))])
    assert result.metrics["pass@1"] == 1.0
    assert [c[0].votes for c in result.ranked[0]] == [4, 4]
    unsolved = {"train": TASK["train"], "test": [{"input": [[1, 2]]}]}
    assert not t.adaptation_set(unsolved, 2, 0).test.labels.any()  # unknown outputs: all PAD


def test_vote_on_a_built_test_split(tmp_path):
    from recursia.data.dataset import read_augmentation_record, read_split
    from recursia.task import DataBuildRequest
    from tests.arc.test_build import EVALUATION, TRAINING, write_tasks

    write_tasks(tmp_path / "src" / "training", TRAINING)
    write_tasks(tmp_path / "src" / "evaluation", EVALUATION)
    t = task(canvas=10)
    t.build_dataset(DataBuildRequest(out=tmp_path / "out", source=f"json:{tmp_path / 'src'}", aug=3))
    split = read_split(tmp_path / "out" / "test")
    record = read_augmentation_record(split, tmp_path / "out" / "test")
    perfect = Predictions(np.asarray(split.labels).astype(np.int64), np.full(split.num_examples, 0.9))
    result = vote(t, split, record, [perfect])
    assert result.metrics["pass@1"] == 1.0 and result.names == record.group_names
    noisy = np.zeros_like(perfect.tokens)  # every answer an empty grid
    assert vote(t, split, record, [Predictions(noisy, perfect.confidence)]).metrics["pass@2"] < 1.0


def test_presets_are_valid_configs():
    presets = ArcTask().presets()
    assert set(presets) >= {"paper", "small"}
    for name, preset in presets.items():
        cfg = RunConfig(task="arc", **preset)
        ArcTask.Options(**cfg.task_options)
        assert cfg.model.mixer == "attention", name
    paper = presets["paper"]
    assert paper["train"]["steps"] == 100_000 * 3081 // 768 and paper["data"] == {"aug": 1000}
    small = ArcTask.Options(**presets["small"]["task_options"])
    assert (small.canvas, small.max_size, small.same_shape) == (7, 6, False)
    cfg = ModelConfig(**presets["small"]["model"])
    t = ArcTask(small)
    model = RecursiveModel(cfg, t.vocab_size, t.seq_len, 5, get_registry().mixer(cfg.mixer))
    carry, out = model.act_step(model.initial_carry(2), torch.full((2, t.seq_len), 2), torch.tensor([1, 4]))
    assert out.logits.shape == (2, 49, 12)


def test_paper_model_parameter_count():
    """6,829,058 trainable parameters, the official count: the puzzle-embedding table (one
    row per task version: 1 + 800 tasks x 1001 versions for ARC-AGI-1 with --aug 1000) is a
    buffer and not counted, neither are the initial states y0, z0."""
    preset = ArcTask().presets()["paper"]
    cfg = ModelConfig(**preset["model"])
    t = ArcTask(ArcTask.Options(**preset["task_options"]))
    ids = 1 + 800 * 1001
    with torch.device("meta"):  # no 1.6 GB table in memory
        model = RecursiveModel(cfg, t.vocab_size, t.seq_len, ids, get_registry().mixer(cfg.mixer))
    assert tuple(model.embed.puzzle.weight.shape) == (ids, 512)
    assert model.num_parameters() == 6_829_058
    d, inner, vocab = 512, 1536, 12  # SwiGLU inner: 2/3 * 4 * 512 rounded up to a multiple of 256
    layer = 3 * d * d + d * d + 2 * inner * d + inner * d  # qkv, o, gate_up, down
    assert 2 * layer + 2 * vocab * d + (2 * d + 2) == 6_829_058  # + token embedding, lm_head, q_head


def test_plugin_hooks_register_the_task_and_augmentation():
    tasks, augs = [], []
    recursia_arc.register_tasks(register=tasks.append)
    recursia_arc.register_augmentations(register=augs.append)
    assert tasks == [ArcTask] and issubclass(ArcTask, Task)
    assert [a.name for a in augs] == ["arc.dihedral_colour"]
    assert "recursia_arc" in DEFAULT_PLUGINS and load_plugins().task("arc") is ArcTask
    assert recursia_arc.__version__ == "0.1.0"


def test_data_build_command_line(tmp_path, capsys):
    from recursia.cli.app import main
    from tests.arc.test_build import EVALUATION, TRAINING, write_tasks

    write_tasks(tmp_path / "src" / "training", TRAINING)
    write_tasks(tmp_path / "src" / "evaluation", EVALUATION)
    try:
        main(["data", "build", "arc", "--out", str(tmp_path / "out"), "--source", f"json:{tmp_path / 'src'}",
              "--aug", "2", "--set", "arc1", "--canvas", "10", "--tasks", "2"])
    except SystemExit as e:
        assert e.code in (0, None), e.code
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["task"] == "arc arc1, canvas 10x10, first 2 tasks" and summary["training_tasks"] == 2
    assert "warning:" not in captured.err or "evleak" in captured.err


def test_errors_are_recursia_errors():
    with pytest.raises(RecursiaError):
        ArcTask().parse({"train": [], "test": []})
