"""The TRM paper's ablations (arXiv 2510.04871, Tables 1 and 2) as configurations.

Each :class:`Variant` is one row: a change of engine switches applied to a task's
preset. The changes are written relative to the preset, so the same rows run at the
paper's scale (``paper``: T 3, n 6, 2 layers, where they give exactly the paper's
settings) and at a laptop's (``small``). The HRM row uses the task's ``hrm`` preset
(``hrm-<scale>`` at other scales). :func:`variant_config` resolves one row for a task;
``recursia ablate`` (``recursia/cli/ablate.py``) trains them all and writes the table.
A task reports the paper's accuracy for a row through ``Task.paper_ablations``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from recursia import config as C
from recursia.cli.train import resolve_config
from recursia.errors import ConfigError


@dataclass(frozen=True)
class Variant:
    """One ablation row.

    name: its short name (run folder, config file, ``--only``); label: the paper's row;
    table: the paper's table (1 or 2); changes: the config overrides, a nested dict,
    computed from the resolved preset's model config; hrm: uses the task's HRM preset.
    """

    name: str
    label: str
    table: int
    changes: Callable[[C.ModelConfig], dict]
    hrm: bool = False

    def preset(self, scale: str) -> str:
        """The preset this row starts from at ``scale`` (``paper`` or e.g. ``small``)."""
        if not self.hrm:
            return scale
        return "hrm" if scale == "paper" else f"hrm-{scale}"


def _double_layers_half_n(m: C.ModelConfig) -> dict:
    return {"model": {"n_layers": 2 * m.n_layers, "n": math.ceil(m.n / 2)}}


def _less_recursion(m: C.ModelConfig) -> dict:
    return {"model": {"T": math.ceil(2 * m.T / 3), "n": math.ceil(m.n / 3)}}


VARIANTS: list[Variant] = [
    Variant("trm", "TRM (T = 3, n = 6)", 1, lambda m: {}),
    Variant("act", "w/ ACT (continue logit, bootstrapped Q target)", 1, lambda m: {"model": {"act": "halt_continue"}}),
    Variant("separate", "w/ separate f_H, f_L", 1, lambda m: {"model": {"net": "separate"}}),
    Variant("no-ema", "no EMA", 1, lambda m: {"train": {"ema": False}}),
    Variant("4-layers", "w/ 4-layers, n = 3 (layers x2, n / 2)", 1, _double_layers_half_n),
    Variant("attention", "w/ self-attention", 1, lambda m: {"model": {"mixer": "attention"}}),
    Variant("less-recursion", "w/ T = 2, n = 2 (T x 2/3, n / 3)", 1, _less_recursion),
    Variant("1-step", "w/ 1-step gradient", 1, lambda m: {"model": {"gradient": "one_step"}}),
    Variant("hrm", "HRM", 1, lambda m: {}, hrm=True),
    Variant("single-z", "TRM single z (one feature)", 2, lambda m: {"model": {"latents": "single_z"}}),
    Variant("multi-z", "TRM multi-scale z (n + 1 features)", 2, lambda m: {"model": {"latents": f"multi_z:{m.n}"}}),
]
BY_NAME = {v.name: v for v in VARIANTS}


def variant_config(task: str, variant: Variant, scale: str, device: str, steps: int | None = None,
                   overrides: list[str] = ()) -> C.RunConfig:
    """The run config of ``variant`` for ``task`` at ``scale`` (a preset name), with
    ``--set``-style ``overrides`` applied to the preset before the row's change.
    ConfigError when the task has no such preset (e.g. no ``hrm-small``)."""
    base = resolve_config(task, None, variant.preset(scale), None, list(overrides), steps, device)
    data = C.deep_merge(base.model_dump(), variant.changes(base.model))
    return C.validate(data, f"ablation {variant.name}")


def rows(names: list[str] | None) -> list[Variant]:
    """The variants named (all when None), in table order; ConfigError for an unknown name."""
    if not names:
        return list(VARIANTS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ConfigError(f"--only {unknown[0]}: no such ablation (there are: {', '.join(BY_NAME)})")
    return [v for v in VARIANTS if v.name in names]
