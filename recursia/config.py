"""Run configuration: pydantic models, YAML/JSON files and dotted ``--set`` overrides.

A run is described by :class:`RunConfig`; every key is validated and a bad key or
value reports every error at once (:class:`recursia.errors.ConfigError`).
Resolution order: defaults < task preset < config file < ``--set`` overrides;
:func:`dump_yaml` writes a resolved config as a file that resolves to it again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from recursia.errors import ConfigError
from recursia.jsonfile import read_json_object, read_text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


LATENTS = re.compile(r"^(yz|single_z|multi_z:(\d+))$")
# old field name -> (new field, value for True, value for False); old run directories use them
ALIASES = {"separate_nets": ("net", "separate", "shared"), "one_step_grad": ("gradient", "one_step", "full"),
           "act_continue": ("act", "halt_continue", "halt")}


class ModelConfig(_Strict):
    """The network and the recursion (DESIGN.md section 4; every switch in docs/engine.md).

    ``T``/``n`` are the official ``H_cycles``/``L_cycles``; ``halt_max_steps`` is N_sup.
    TRM is the default. HRM (the ``hrm`` presets) is ``net: separate, gradient: one_step,
    act: halt_continue``, 4 layers in each net, T 2, n 2, attention with RoPE and one
    prefix position. The old boolean keys ``separate_nets``, ``one_step_grad`` and
    ``act_continue`` are still read (and win over the new key when both are given).
    """

    mixer: str = "mlp"
    mixer_options: dict[str, Any] = Field(default_factory=dict)
    hidden_size: int = Field(512, gt=0)
    n_layers: int = Field(2, gt=0, description="blocks of the net (of the z-net with net: separate)")
    n_layers_y: int | None = Field(None, gt=0, description="blocks of the y-net with net: separate "
                                                            "(None = n_layers; official HRM H_layers)")
    expansion: float = Field(4.0, gt=0)
    num_heads: int = Field(8, gt=0)
    T: int = Field(3, ge=1, description="cycles per supervision step (official H_cycles)")
    n: int = Field(6, ge=1, description="z-updates per cycle (official L_cycles)")
    puzzle_emb_ndim: int | None = Field(None, ge=0, description="puzzle embedding size; None = hidden_size")
    puzzle_emb_len: int | None = Field(16, ge=0, description="prefix positions; None = ceil(ndim / hidden)")
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    swiglu_multiple: int = Field(256, ge=1, description="SwiGLU inner width rounded up to this (official 256)")
    halt_max_steps: int = Field(16, ge=1, description="N_sup: supervision steps per example")
    halt_exploration_prob: float = Field(0.1, ge=0, le=1)
    net: Literal["shared", "separate"] = Field(
        "shared", description="one net for the z- and y-updates (TRM) or a z-net and a y-net (HRM f_L, f_H)")
    gradient: Literal["full", "one_step"] = Field(
        "full", description="gradient through the last cycle (TRM) or only the last z- and y-update (HRM)")
    act: Literal["halt", "halt_continue", "none"] = Field(
        "halt", description="halting: learned q_halt > 0 (TRM), Q-learning with a continue logit and its "
                            "bootstrapped target (HRM; a second forward per step), or none (always N_sup)")
    latents: str = Field("yz", description="yz (answer y and latent z, TRM), single_z (one state), or "
                                           "multi_z:K (y and K latent states, 2 <= K <= n)")

    @model_validator(mode="before")
    @classmethod
    def _read_aliases(cls, data: Any) -> Any:
        """Translate the old boolean switches into the named ones."""
        if isinstance(data, dict) and any(k in data for k in ALIASES):
            data = dict(data)
            for old, (new, yes, no) in ALIASES.items():
                if old in data:
                    value = data.pop(old)
                    data[new] = (yes if value else no) if isinstance(value, bool) else value
        return data

    @model_validator(mode="after")
    def _check_switches(self) -> "ModelConfig":
        """Settings that only make sense together."""
        match = LATENTS.match(self.latents)
        if match is None:
            raise ValueError(f"latents: expected yz, single_z or multi_z:K, got {self.latents!r}")
        if match.group(2) is not None and not 2 <= int(match.group(2)) <= self.n:
            raise ValueError(f"latents: multi_z:K needs 2 <= K <= n ({self.n}), got {self.latents!r}")
        if self.n_layers_y is not None and self.net != "separate":
            raise ValueError("n_layers_y: only with net: separate (the shared net has n_layers blocks)")
        return self

    @property
    def num_latents(self) -> int:
        """Latent states besides y: 1 (yz), 0 (single_z) or K (multi_z:K)."""
        match = LATENTS.match(self.latents)
        return int(match.group(2)) if match.group(2) else int(self.latents == "yz")

    @property
    def y_layers(self) -> int:
        """Blocks of the net that updates y."""
        return self.n_layers_y or self.n_layers

    def effective_depth(self) -> int:
        """Layers applied per supervision step: T (n z-updates + 1 y-update) x layers
        (the paper's 'effective depth'; with two nets each update counts its own net)."""
        return self.T * (self.n * self.n_layers + self.y_layers)

    def forward_passes(self) -> int:
        """Forward passes of the model per training step: 2 with the Q-learning target
        (``act: halt_continue`` runs the next step once more for it), else 1."""
        return 2 if self.act == "halt_continue" else 1


class TrainConfig(_Strict):
    """Optimisation and the training loop."""

    steps: int = Field(1000, ge=0, description="optimizer steps (one supervision step each)")
    batch_size: int = Field(768, gt=0, description="global batch: slots of the training carry")
    lr: float = 1e-4
    weight_decay: float = 1.0
    beta1: float = 0.9
    beta2: float = 0.95
    warmup_steps: int = Field(2000, ge=0)
    lr_min_ratio: float = Field(1.0, ge=0, le=1, description="after the warm-up, the learning rates follow a cosine "
                                "down to this fraction at the last step (official lr_min_ratio; 1 = constant)")
    optimizer: Literal["adam_atan2", "adamw"] = "adam_atan2"
    puzzle_emb_lr: float = 1e-4
    puzzle_emb_weight_decay: float = 1.0
    loss: Literal["stablemax", "softmax"] = "stablemax"
    ema: bool = True
    ema_rate: float = Field(0.999, ge=0, lt=1)
    seed: int = 0
    eval_every: int = Field(0, ge=0, description="evaluate every N steps (0 = only at the end)")
    eval_limit: int | None = Field(512, description="test examples per periodic evaluation")
    checkpoint_every: int = Field(500, ge=1)
    keep: int = Field(1, ge=0, description="checkpoints kept as checkpoints/step-N/ (model and config, "
                                          "hard links); the best periodic evaluation is kept in best/ as well")
    log_every: int = Field(10, ge=1, description="write the mean metrics of every N steps to metrics.jsonl")
    tensorboard: bool | Literal["auto"] = Field(
        "auto", description="also log to RUN/tensorboard/ (auto = when the tensorboard package is installed)")
    compile: bool = Field(False, description="torch.compile the model (falls back to eager on errors)")
    deterministic: bool | Literal["auto"] = Field(
        "auto", description="torch.use_deterministic_algorithms while training, so that compiled CPU kernels "
                            "sum in a fixed order and two runs with one seed give the same weights; "
                            "auto = on on CPU, off on CUDA (where it also needs CUBLAS_WORKSPACE_CONFIG)")
    flush_denormal: bool = Field(True, description="CPU: treat denormal floats as zero (attention "
                                                   "backward on CPU is up to 9x slower without)")
    dtype: Literal["auto", "fastest", "float32", "bfloat16"] = Field(
        "auto", description="forward dtype: auto = bfloat16 autocast on CUDA (official), float32 on CPU; fastest = "
                            "bfloat16 also on a CPU that multiplies bf16 in hardware (AMX or AVX512-BF16)")
    threads: int | Literal["auto"] | None = Field(
        None, description="torch CPU threads: a count, None = torch's default, auto = torch's default while the "
                          "machine is otherwise idle and the cores other processes leave free while it is not "
                          "(one process on the CPU; runs then repeat only to float rounding)")
    nonfinite: Literal["stop", "skip"] = Field(
        "stop", description="a non-finite loss or gradient: stop the run (its last checkpoint is kept) or skip "
                            "the step (no update; its batch is dropped and counted as nonfinite_skipped)")


class DataConfig(_Strict):
    """Where the dataset is; built into the cache when ``path`` is None."""

    path: str | None = None
    train_size: int | None = None
    test_size: int | None = None
    aug: int | None = None
    seed: int = 0


class RunConfig(_Strict):
    """A whole run: task, model, training and data."""

    task: str
    task_options: dict[str, Any] = Field(default_factory=dict)
    preset: str | None = None
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    data: DataConfig = Field(default_factory=DataConfig)


class _Loader(yaml.SafeLoader):
    """YAML loader that also reads ``1e-4``/``3E+2`` as floats (YAML 1.1 needs a dot)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def parse_value(raw: str):
    """A command-line value as YAML: ``3`` int, ``3e-4`` float, ``true`` bool, else the string."""
    try:
        return yaml.load(raw, Loader=_Loader) if raw.strip() else ""
    except yaml.YAMLError:
        return raw


def format_validation_error(err: ValidationError, where: str) -> str:
    """All pydantic errors on one line: ``where: a.b: msg; c: msg``."""
    parts = []
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top)"
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return f"{where}: " + "; ".join(parts)


def deep_merge(base: dict, over: dict) -> dict:
    """A copy of ``base`` with ``over`` merged in recursively (dicts merge, values replace)."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_override(item: str) -> dict:
    """``"train.lr=3e-4"`` -> ``{"train": {"lr": 0.0003}}`` (value parsed as YAML)."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    if not key or any(not p for p in key.split(".")):
        raise ConfigError(f"--set {item!r}: empty key")
    value = parse_value(raw)
    out: dict = {}
    cur = out
    parts = key.split(".")
    for p in parts[:-1]:
        cur = cur.setdefault(p, {})
    cur[parts[-1]] = value
    return out


def load_file(path: str | Path) -> dict:
    """Read a YAML or JSON (``.json``) config file into a dict; ConfigError on a missing/bad file."""
    path = Path(path)
    if path.suffix == ".json":
        return read_json_object(path, ConfigError, "config file")
    text = read_text(path, ConfigError, "config file")
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def validate(data: dict, where: str = "config") -> RunConfig:
    """Validate a nested dict into a RunConfig; ConfigError listing every problem."""
    try:
        return RunConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, where)) from None


def default_preset(device: str) -> str:
    """The preset a run uses when none is given: ``paper`` on CUDA, ``small`` on the CPU."""
    return "paper" if device.startswith("cuda") else "small"


def dump_yaml(cfg: RunConfig) -> str:
    """Every key of ``cfg`` as YAML, in field order; :func:`load_file` reads it back to an equal config."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, default_flow_style=False)


def save(cfg: RunConfig, path: Path) -> None:
    """Write the resolved config as JSON."""
    path.write_text(json.dumps(cfg.model_dump(), indent=2))


def load_json(path: Path) -> RunConfig:
    """Read a run's ``config.json``."""
    return validate(read_json_object(path, ConfigError, "run config"), str(path))
