"""The public plugin API: everything a recursia plugin may use, and nothing else.

A plugin (a task, a mixer, an augmentation or a command; docs/plugins.md) imports from
here only, ``from recursia.api import Task, hookimpl, ...``. These names are the stable
surface: they keep their meaning across minor versions, while every other module of
recursia may change. A test fails when a plugin under ``plugins/`` or ``examples/``
imports anything else of recursia.

Importing this module does not import torch; the building blocks for mixers
(:data:`MIXER_BLOCKS`) import it on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from recursia.config import ModelConfig
from recursia.data.augment import Augmentation, AugmentationRecord
from recursia.data.dataset import (Split, SplitWriter, check_tokens, group_originals, official_split_folders,
                                   read_official_pools, read_split, write_augmented_split, write_split)
from recursia.data.select import (Pool, Pools, Selection, dedupe_rows, disjoint_split, read_sources, select_splits,
                                  subsample_rows)
from recursia.errors import CheckpointError, ConfigError, DatasetError, PluginError, PuzzleError, RecursiaError
from recursia.grids import (CellPermutation, Dihedral, GridAugmentation, GridTranspose, SquareGridTask, SymbolRelabel, compose,
                            dihedral, format_rows, grid_side, infer_side, inverse, parse_rows, permutation,
                            raise_conflicts, render_grid, repeats, symbols_to_tokens, tokens_to_symbols)
from recursia.hookspecs import hookimpl
from recursia.hrm import hrm_presets, readme_training
from recursia.html import html_grid
from recursia.jsonfile import read_json_object, read_text
from recursia.presets import small_cpu_preset, trm_paper_preset
from recursia.task import AdaptationSet, DataBuildRequest, Task, TaskOptions

MIXER_BLOCKS = {  # name -> module; imported when first used (they import torch)
    "SwiGLU": "recursia.model.layers",
    "swiglu_width": "recursia.model.layers",
    "linear": "recursia.model.layers",
    "rms_norm": "recursia.model.layers",
    "rotary_tables": "recursia.model.layers",
    "apply_rotary": "recursia.model.layers",
}

__all__ = [
    # the plugin hooks
    "hookimpl",
    # tasks
    "Task", "TaskOptions", "DataBuildRequest", "AdaptationSet",
    # errors (one line each, shown to the user)
    "RecursiaError", "PuzzleError", "DatasetError", "ConfigError", "CheckpointError", "PluginError",
    # augmentations
    "Augmentation", "AugmentationRecord",
    # datasets on disk
    "write_split", "write_augmented_split", "SplitWriter", "Split", "read_split", "check_tokens",
    "official_split_folders", "read_official_pools", "group_originals",
    # importing puzzles from files: splits and seeded subsets
    "Selection", "Pool", "Pools", "read_sources", "select_splits", "disjoint_split", "dedupe_rows",
    "subsample_rows", "read_text", "read_json_object",
    # presets
    "trm_paper_preset", "small_cpu_preset", "hrm_presets", "readme_training",
    # grid puzzles
    "SquareGridTask", "symbols_to_tokens", "tokens_to_symbols", "infer_side", "parse_rows", "format_rows", "repeats",
    "raise_conflicts", "render_grid", "permutation", "GridAugmentation", "SymbolRelabel", "CellPermutation", "GridTranspose", "Dihedral",
    "dihedral", "compose", "inverse", "grid_side", "html_grid",
    # building blocks of mixers (all but ModelConfig import torch when used)
    "ModelConfig", *MIXER_BLOCKS,
]


def __getattr__(name: str) -> Any:
    """The mixer building blocks, imported on first use (so importing the API needs no torch)."""
    if name in MIXER_BLOCKS:
        value = getattr(importlib.import_module(MIXER_BLOCKS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'recursia.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names."""
    return sorted(__all__)
