"""``recursia bench``: training and inference speed against the machine's measured matmul
peak (MFU), the ``tiny-recursive-model`` package, and a busy neighbour process.

:mod:`~recursia.bench.flops` counts model FLOPs (DESIGN.md section 8),
:mod:`~recursia.bench.peak` measures the matmul peak at the model's own shapes,
:mod:`~recursia.bench.workload` builds the model and data a measurement runs on, and
:mod:`~recursia.bench.measure` times training, evaluation, ``solve``, the peer package
and contention; :mod:`~recursia.bench.report` prints tables, JSON lines and markdown.
"""
