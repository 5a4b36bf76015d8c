"""Helpers shared by the CLI commands."""

from __future__ import annotations

import torch

from recursia.errors import ConfigError


def pick_device(device: str | None) -> str:
    """``cuda`` when available (or asked for), else ``cpu``; ConfigError for an unusable one."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: CUDA is not available on this machine")
    if not (device == "cpu" or device.startswith("cuda")):
        raise ConfigError(f"--device {device}: expected cpu or cuda[:N]")
    return device
