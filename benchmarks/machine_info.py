"""The one-line machine description every benchmark prints first."""

from __future__ import annotations

import os
import platform

import numpy as np

from recursia.bench.report import cpu_model, load_average


def machine() -> str:
    """One line: CPU model, cores, Python, numpy, OS and load average."""
    return (f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
            f"{platform.system()} {platform.release()}, load average {load_average()}")
