"""ARC grids as tokens: the official TRM/HRM canvas encoding, the crop back, parsing.

A *grid* is a 2-D array of colours 0..9 (any height and width from 1 to the canvas
side). *Tokens* (as the official ``build_arc_dataset.py``): PAD 0, EOS 1, colour ``c``
-> ``c + 2`` (vocabulary 12). A grid ``(h, w)`` is placed in a ``C x C`` canvas (C = 30
officially) at the top-left offset ``(r, c)``; EOS marks the row just below the grid
(columns ``c..c+w-1``) and the column just right of it (rows ``r..r+h-1``) where that
row / column is inside the canvas; everything else is PAD. The input and the output of
a pair share one offset.

:func:`crop` is the official ``_crop``: the largest rectangle of colour tokens that
starts at the top-left corner of the canvas. It is what votes compare
(:meth:`recursia_arc.task.ArcTask.answer_form`).

:func:`parse_task` reads a standard ARC task object (``{"train": [{"input",
"output"}...], "test": [{"input", "output"?}...]}``) with one-line
:class:`recursia.errors.PuzzleError` messages that name the field
(``"test[0].input: row 2 has 3 cells, row 1 has 4"``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from recursia.api import PuzzleError

PAD, EOS = 0, 1
COLOUR_OFFSET = 2  # token of colour c is c + 2
COLOURS = 10
VOCAB_SIZE = COLOURS + COLOUR_OFFSET
MAX_CANVAS = 30  # the official canvas side (ARC grids are at most 30x30)

Pair = tuple[np.ndarray, np.ndarray]


# --- encoding ------------------------------------------------------------------------

def place(canvas: np.ndarray, grid: np.ndarray, r: int, c: int) -> None:
    """Write ``grid`` (h, w) colours into the PAD-filled ``canvas`` (C, C) tokens at offset
    ``(r, c)``, with the EOS row below and the EOS column right of it when inside."""
    side = canvas.shape[0]
    h, w = grid.shape
    canvas[r:r + h, c:c + w] = grid + COLOUR_OFFSET  # (h, w)
    if r + h < side:
        canvas[r + h, c:c + w] = EOS
    if c + w < side:
        canvas[r:r + h, c + w] = EOS


def encode_grid(grid: np.ndarray, canvas: int = MAX_CANVAS, offset: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Tokens ``(canvas*canvas,)`` uint8 of one grid placed at ``offset`` (see :func:`place`)."""
    grid = np.asarray(grid, dtype=np.uint8)
    check_fits(grid, canvas)
    r, c = offset
    if r < 0 or c < 0 or r + grid.shape[0] > canvas or c + grid.shape[1] > canvas:
        raise ValueError(f"offset {offset} puts a {grid.shape[0]}x{grid.shape[1]} grid outside the "
                         f"{canvas}x{canvas} canvas")
    out = np.zeros((canvas, canvas), dtype=np.uint8)  # (C, C)
    place(out, grid, r, c)
    return out.reshape(-1)


def encode_pair(inp: np.ndarray, out: np.ndarray, canvas: int = MAX_CANVAS,
                offset: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """``(inputs, labels)`` tokens ``(canvas*canvas,)`` uint8 of a pair, both at ``offset``."""
    return encode_grid(inp, canvas, offset), encode_grid(out, canvas, offset)


def max_offset(shapes: list[tuple[int, int]], canvas: int) -> tuple[int, int]:
    """The largest ``(row, column)`` offset at which every grid of ``shapes`` fits the canvas."""
    return canvas - max(h for h, _ in shapes), canvas - max(w for _, w in shapes)


def check_fits(grid: np.ndarray, canvas: int) -> None:
    """ValueError unless ``grid`` is a non-empty 2-D grid of at most ``canvas x canvas``."""
    if grid.ndim != 2 or grid.shape[0] < 1 or grid.shape[1] < 1:
        raise ValueError(f"a grid is a non-empty 2-D array, got shape {grid.shape}")
    if grid.shape[0] > canvas or grid.shape[1] > canvas:
        raise ValueError(f"a {grid.shape[0]}x{grid.shape[1]} grid does not fit the {canvas}x{canvas} canvas")


def fits(grid: np.ndarray, canvas: int) -> bool:
    """Whether the grid's height and width are at most ``canvas``."""
    return grid.shape[0] <= canvas and grid.shape[1] <= canvas


# --- the crop (answer form) ------------------------------------------------------------

def canvas_side(cells: int) -> int:
    """The side of a square canvas of ``cells`` tokens; ValueError when it is not square."""
    side = math.isqrt(cells)
    if side * side != cells or side < 1:
        raise ValueError(f"{cells} tokens are not a square canvas")
    return side


def _board(tokens: np.ndarray) -> np.ndarray:
    """A 2-D view of tokens: a flat square canvas (C*C,) reshaped to (C, C); a 2-D array as it is."""
    tokens = np.asarray(tokens)
    if tokens.ndim == 2:
        return tokens
    if tokens.ndim != 1:
        raise ValueError(f"expected a flat canvas or a 2-D board of tokens, got shape {tokens.shape}")
    side = canvas_side(tokens.size)
    return tokens.reshape(side, side)


def crop_size(tokens: np.ndarray) -> tuple[int, int]:
    """``(rows, columns)`` of the official crop of a canvas of tokens: (C*C,) or a 2-D board.

    Row ``r`` counts the run of colour tokens (2..11) from column 0, never more than the
    previous row's count (a running minimum); the answer is the ``(r + 1, count)``
    rectangle of largest area, the first one on ties; ``(0, 0)`` when the top-left
    cell is no colour.
    """
    board = _board(tokens)  # (H, W)
    if board.size == 0:
        return 0, 0
    height, width = board.shape
    invalid = (board < COLOUR_OFFSET) | (board >= VOCAB_SIZE)  # (H, W)
    # run of colours from column 0 in each row: index of the first invalid cell, or W
    runs = np.where(invalid.any(axis=1), invalid.argmax(axis=1), width)  # (H,)
    widths = np.minimum.accumulate(runs)  # (H,) the official num_c after each row
    areas = widths * np.arange(1, height + 1)  # (H,)
    best = int(areas.argmax())
    if areas[best] == 0:
        return 0, 0
    return best + 1, int(widths[best])


def crop(tokens: np.ndarray) -> np.ndarray:
    """The grid ``(h, w)`` uint8 colours of a canvas of tokens, (C*C,) or a 2-D board
    (official ``_crop``); a ``(0, 0)`` grid when the tokens hold no grid at the top-left."""
    board = _board(tokens)  # (H, W)
    h, w = crop_size(board)
    return (board[:h, :w].astype(np.int64) - COLOUR_OFFSET).astype(np.uint8)


# --- parsing -------------------------------------------------------------------------

def to_grid(obj: Any, where: str, canvas: int | None = MAX_CANVAS) -> np.ndarray:
    """A grid ``(h, w)`` uint8 from a list of rows of colours 0..9 (or a 2-D integer array).

    Raises PuzzleError naming ``where`` for a non-list, an empty grid or row, rows of
    different lengths, a value that is not a colour 0..9, or a grid larger than the canvas
    (``canvas`` None: any size).
    """
    if isinstance(obj, np.ndarray):
        rows = obj.tolist() if obj.ndim == 2 else None
        if rows is None:
            raise PuzzleError(f"{where}: expected a 2-D grid, got an array of shape {obj.shape}")
        obj = rows
    if not isinstance(obj, (list, tuple)):
        raise PuzzleError(f"{where}: expected a list of rows (lists of colours 0-9), got {type(obj).__name__}")
    if not obj:
        raise PuzzleError(f"{where}: the grid has no rows")
    width = None
    for r, row in enumerate(obj, 1):
        if not isinstance(row, (list, tuple)):
            raise PuzzleError(f"{where}: row {r} is not a list of colours (got {type(row).__name__})")
        if not row:
            raise PuzzleError(f"{where}: row {r} is empty")
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise PuzzleError(f"{where}: row {r} has {len(row)} cells, row 1 has {width}")
        for c, value in enumerate(row, 1):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= 9:
                raise PuzzleError(f"{where}: colour {value!r} at row {r}, column {c} is not 0-9")
    grid = np.array(obj, dtype=np.uint8)  # (h, w)
    if canvas is not None and not fits(grid, canvas):
        raise PuzzleError(f"{where}: a {grid.shape[0]}x{grid.shape[1]} grid does not fit the {canvas}x{canvas} "
                          f"canvas (task option canvas)")
    return grid


def _examples(puzzle: dict, key: str, need_output: bool) -> list:
    """The list under ``key`` of a task object, checked to be a non-empty list of objects."""
    value = puzzle.get(key)
    if not isinstance(value, list):
        got = "nothing" if value is None else type(value).__name__
        raise PuzzleError(f"{key}: expected a list of {{'input', 'output'}} pairs, got {got}")
    if not value:
        raise PuzzleError(f"{key}: the list is empty (an ARC task needs at least one {key} pair)")
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise PuzzleError(f"{key}[{i}]: expected an object with 'input'"
                              f"{' and output' if need_output else ''}, got {type(item).__name__}")
        wanted = ("input", "output") if need_output else ("input",)
        for field in wanted:
            if field not in item:
                raise PuzzleError(f"{key}[{i}]: missing '{field}'")
    return value


def parse_task(puzzle: Any, canvas: int | None = MAX_CANVAS
               ) -> tuple[list[Pair], list[np.ndarray], list[np.ndarray] | None]:
    """``(train_pairs, test_inputs, test_outputs)`` of a standard ARC task object.

    ``train_pairs``: the demonstration ``(input, output)`` grids; ``test_inputs``: the
    test input grids; ``test_outputs``: their expected outputs, or None when the test
    pairs have no ``output`` (a task to solve). Every grid is ``(h, w)`` uint8 and fits
    the ``canvas`` (None: any size). Raises PuzzleError naming the field
    (``"train[1].output: colour 12 at row 1, column 3 is not 0-9"``).
    """
    if not isinstance(puzzle, dict):
        raise PuzzleError(f"an ARC task is an object with 'train' and 'test' lists, got {type(puzzle).__name__}")
    train = [(to_grid(item["input"], f"train[{i}].input", canvas), to_grid(item["output"], f"train[{i}].output",
                                                                            canvas))
             for i, item in enumerate(_examples(puzzle, "train", True))]
    tests = _examples(puzzle, "test", False)
    test_inputs = [to_grid(item["input"], f"test[{i}].input", canvas) for i, item in enumerate(tests)]
    with_output = [("output" in item and item["output"] is not None) for item in tests]
    if not any(with_output):
        return train, test_inputs, None
    if not all(with_output):
        missing = with_output.index(False)
        raise PuzzleError(f"test[{missing}]: no 'output' while test[{with_output.index(True)}] has one "
                          f"(give every test output or none)")
    test_outputs = [to_grid(item["output"], f"test[{i}].output", canvas) for i, item in enumerate(tests)]
    return train, test_inputs, test_outputs


def task_object(train: list[Pair], test_inputs: list[np.ndarray],
                test_outputs: list[np.ndarray | None] | None = None) -> dict:
    """The standard ARC JSON object of a task (lists of lists of ints; a test output only where known)."""
    tests = []
    for j, grid in enumerate(test_inputs):
        item = {"input": np.asarray(grid).tolist()}
        if test_outputs is not None and test_outputs[j] is not None:
            item["output"] = np.asarray(test_outputs[j]).tolist()
        tests.append(item)
    return {"train": [{"input": np.asarray(i).tolist(), "output": np.asarray(o).tolist()} for i, o in train],
            "test": tests}


# --- text ----------------------------------------------------------------------------

def render_grid(grid: np.ndarray, marks: np.ndarray | None = None) -> str:
    """Rows of digits, one character per cell (``0120``); an empty grid is ``(empty grid)``.

    With ``marks`` (a boolean array of the grid's shape) every cell gets a second
    character, ``*`` for a marked cell and a space otherwise (``0*12*0``), so the
    columns stay aligned.
    """
    grid = np.asarray(grid)
    if grid.size == 0:
        return "(empty grid)"
    lines = []
    for r, row in enumerate(grid):
        if marks is None:
            lines.append("".join(str(int(v)) for v in row))
        else:
            lines.append("".join(f"{int(v)}{'*' if m else ' '}" for v, m in zip(row, marks[r])).rstrip())
    return "\n".join(lines)
