"""The step-by-step HTML viewer: `recursia solve --html`, recursia.html, the tasks' render_html.

The page must be one self-contained file (no network), hold one frame per supervision
step, a halting chart and the verdict, escape every text, and its script must run in a
real browser (headless Chromium, skipped when none is installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from recursia.html import Section, StepTrace, html_grid, solve_page, step_trace, write_html
from recursia.infer import Solution
from recursia.task import Task
from recursia_arc.task import ArcTask
from recursia_maze.task import MazeTask
from recursia_sudoku.task import SudokuTask
from tests.arc.test_build import EVALUATION, TRAINING, write_tasks
from tests.arc.test_solve import TINY_ARC, UNSEEN
from tests.test_end_to_end import PUZZLE_4x4, exit_code, run_cli

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "puzzles"
N_SUP = 3
TINY = ["--set", "task_options.size=4", "--set", "train.compile=false", "--set", "train.dtype=float32",
        "--set", "model.hidden_size=16", "--set", "model.num_heads=2", "--set", "model.T=1", "--set", "model.n=1",
        "--set", f"model.halt_max_steps={N_SUP}", "--set", "train.batch_size=8", "--set", "train.eval_every=0",
        "--set", "train.checkpoint_every=10"]


class Page(HTMLParser):
    """The elements of an HTML page: ``(tag, attrs)`` in document order, and its text."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.texts.append(data)

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str | None]]:
        """Attributes of the elements ``tag`` (with class ``cls`` among their classes)."""
        return [a for t, a in self.elements
                if t == tag and (cls is None or cls in (a.get("class") or "").split())]

    @property
    def text(self) -> str:
        return "".join(self.texts)


def assert_self_contained(text: str) -> None:
    """No reference that would need the network or another file."""
    lowered = text.lower()
    for needle in ("http://", "https://", "src=", "<link", "@import", "url(", "//cdn"):
        assert needle not in lowered, needle


def frames_of(page: Page) -> list[int]:
    return [int(a["data-step"]) for a in page.find("section", "frame")]


# --- html_grid ------------------------------------------------------------------------------

def test_html_grid_marks_changed_given_boxes_and_escapes():
    cells = [["1", "<b>"], ["&", ""]]
    out = html_grid(cells, changed=[False, True, False, False], box=(1, 1), given=[[True, False], [False, False]])
    assert "<b>" not in out and "&lt;b&gt;" in out and "&amp;" in out
    tds = Page(out).find("td")
    assert len(tds) == 4
    assert tds[0]["class"] == "given" and "chg" in tds[1]["class"] and "bl" in tds[1]["class"]
    assert "bt" in tds[2]["class"] and "bt" in tds[3]["class"] and "bl" in tds[3]["class"]
    assert 'class="grid boxed"' in out and 'data-rows="2"' in out and 'data-cols="2"' in out


def test_html_grid_colours_css_and_rgb():
    out = html_grid([["", ""]], colours=[["#000000", None]])
    tds = Page(out).find("td")
    assert tds[0]["style"] == "background:#000000" and tds[0]["class"] == "dark" and "style" not in tds[1]
    rgb = np.array([[[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]]])
    tds = Page(html_grid([["a", "b"]], colours=rgb)).find("td")
    assert tds[0]["style"] == "background:#ffffff" and "class" not in tds[0]
    assert tds[1]["style"] == "background:#000000" and tds[1]["class"] == "dark"


@pytest.mark.parametrize("kwargs,needle", [
    ({"colours": [["red;x:url(evil)", ""]]}, "not a CSS colour"),
    ({"colours": [["red"]]}, "1x2 grid"),
    ({"changed": [True]}, "changed has 1 elements"),
    ({"given": np.ones((3, 3))}, "given has 9 elements"),
    ({"box": (0, 1)}, "box must be"),
])
def test_html_grid_rejects_bad_arguments(kwargs, needle):
    with pytest.raises(ValueError, match=re.escape(needle)):
        html_grid([["1", "2"]], **kwargs)


def test_html_grid_of_an_empty_grid():
    assert "(empty grid)" in html_grid([]) and "(empty grid)" in html_grid(np.zeros((0, 0)))


# --- the page -------------------------------------------------------------------------------

def fake_solution(task: Task, inputs: np.ndarray, answers: list[np.ndarray], confidence: list[float],
                  steps: int, halted: bool) -> Solution:
    answer = answers[steps - 1]
    return Solution(inputs=inputs, answer=answer, steps=steps, halted=halted, halt_confidence=confidence[steps - 1],
                    valid=bool(task.check(inputs, answer)), trace=list(zip(answers, confidence)))


def sudoku_example() -> tuple[SudokuTask, np.ndarray, Solution]:
    """A 4x4 puzzle solved in 3 of 4 steps: the last two answers are the solution."""
    task = SudokuTask(SudokuTask.Options(size=4))
    inputs = task.parse(PUZZLE_4x4["puzzle"])
    solution = task.parse(["1324", "4231", "2413", "3142"])
    half = np.where(np.arange(16) < 8, solution, inputs)
    wrong = half.copy()
    wrong[9] = 2  # a wrong digit in row 3
    answers = [half, wrong, solution, solution]
    return task, inputs, fake_solution(task, inputs, answers, [0.1, 0.3, 0.9, 0.95], steps=3, halted=True)


def test_solve_page_structure_frames_chart_verdict():
    task, inputs, sol = sudoku_example()
    trace = step_trace(task, inputs, sol)
    assert trace.verdict == "valid" and trace.changed[0] == int((sol.trace[0][0] != inputs).sum())
    assert trace.changed[1] == 1 and trace.changed[3] == 0
    text = solve_page("recursia solve p.json", [trace], "runs/sudoku-4", [("task", "sudoku 4x4")])
    assert_self_contained(text)
    page = Page(text)
    assert frames_of(page) == [1, 2, 3, 4]
    assert [a["data-changed"] for a in page.find("section", "frame")] == [str(c) for c in trace.changed]
    assert [a["data-step"] for a in page.find("section", "halt")] == ["3"]  # the learned-halt frame
    assert len(page.find("svg", "chart")) == 1
    points = page.find("circle", "pt")
    assert [p["data-step"] for p in points] == ["1", "2", "3", "4"]
    assert [p["data-step"] for p in page.find("circle", "halt")] == ["3"]
    assert float(points[2]["cy"]) < float(points[0]["cy"])  # higher confidence, higher on the chart
    assert page.find("line", "threshold") and page.find("line", "halt-line")
    assert "runs/sudoku-4" in page.text and "valid" in page.text and "sudoku 4x4" in page.text
    assert page.find("span", "good") and not page.find("span", "bad")
    body = page.find("body")[0]
    assert body["data-steps"] == "4" and body["data-start"] == "3"
    assert "hidden" in page.find("nav", "controls")[0]  # shown by the script only
    assert len(page.find("script")) == 1 and "body.dataset.ready" in text
    for button in ("first", "prev", "play", "next", "last"):
        assert f'id="{button}"' in text
    assert 'type="range"' in text and "ArrowLeft" in text and "ArrowRight" in text


def test_solve_page_escapes_every_text():
    task, inputs, sol = sudoku_example()
    evil = '<script>alert("x")</script>&'
    trace = step_trace(task, inputs, sol, title=evil)
    text = solve_page(evil, [trace], f"runs/{evil}", [(evil, evil)], notes=[evil],
                      sections=[Section(evil, "<p>trusted</p>")], verdict=evil)
    assert evil not in text and text.count("<script>") == 1  # only the page's own script
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;" in text
    assert "<p>trusted</p>" in text


def test_not_valid_and_no_halt_are_shown():
    task, inputs, _ = sudoku_example()
    answers = [inputs.copy() for _ in range(2)]
    sol = fake_solution(task, inputs, answers, [0.2, 0.4], steps=2, halted=False)
    page = Page(solve_page("t", [step_trace(task, inputs, sol)], "m"))
    assert page.find("span", "bad") and "not valid" in page.text and "N_sup" in page.text
    assert "no halt before N_sup=2" in page.text


def test_several_traces_and_no_checker():
    task = ArcTask(ArcTask.Options(canvas=6))
    traces = []
    for j in range(2):
        inputs = task.parse({"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[j + 1, 0]]}]})
        sol = fake_solution(task, inputs, [inputs, inputs], [0.7, 0.2], steps=1, halted=True)
        traces.append(step_trace(task, inputs, sol, title=f"test {j + 1}"))
    assert all(t.verdict == "no checker" for t in traces)
    page = Page(solve_page("arc", traces, "m"))
    assert frames_of(page) == [1, 2, 1, 2] and len(page.find("svg", "chart")) == 2
    assert "test 1: no checker; test 2: no checker" in page.text and page.find("span", "none")


def test_step_trace_checks_its_lengths_and_verdict():
    with pytest.raises(ValueError, match="one entry per step"):
        StepTrace("p", ["a", "b"], [0.5], [1, 1], 1)
    with pytest.raises(ValueError, match="verdict"):
        StepTrace("p", ["a"], [0.5], [1], 1, verdict="maybe")


def test_write_html_replaces_the_file_whole(tmp_path):
    out = tmp_path / "page.html"
    out.write_text("old")
    write_html(out, "new <page>")
    assert out.read_text() == "new <page>" and [p.name for p in tmp_path.iterdir()] == ["page.html"]
    assert out.stat().st_mode & 0o044  # readable by others, as an ordinary new file (umask 022)


# --- the tasks' render_html -----------------------------------------------------------------

def test_default_render_html_is_the_escaped_text_picture():
    class Text(Task):
        name = "text"

        @property
        def seq_len(self):
            return 2

        def render(self, inputs, answer=None, changed=None):
            return f"<{'answer' if answer is not None else 'puzzle'}> & {changed is not None}"

    t = Text()
    assert t.render_html(np.zeros(2)) == '<pre class="text-grid">&lt;puzzle&gt; &amp; False</pre>'
    assert t.render_html(np.zeros(2), np.ones(2), np.ones(2, bool)) == \
        '<pre class="text-grid">&lt;answer&gt; &amp; True</pre>'
    assert t.render_html(np.zeros(2), np.ones((1, 3))) == '<pre class="text-grid">1 1 1</pre>'  # an answer form


def test_sudoku_render_html_digits_boxes_givens_changes():
    task = SudokuTask(SudokuTask.Options(size=6))
    puzzle = json.loads((EXAMPLES / "sudoku6.json").read_text())["puzzle"]
    inputs = task.parse(puzzle)
    answer = inputs.copy()
    answer[0] = 5  # digit 4 in the first (blank) cell
    page = Page(task.render_html(inputs, answer, changed=answer != inputs))
    tds = page.find("td")
    assert len(tds) == 36 and page.find("table", "boxed")
    assert "chg" in tds[0]["class"] and sum("chg" in (t.get("class") or "") for t in tds) == 1
    givens = [i for i, t in enumerate(tds) if "given" in (t.get("class") or "").split()]
    assert givens == list(np.flatnonzero(inputs != 1))
    assert all("bl" in (tds[r * 6 + 3].get("class") or "") for r in range(6))  # 2x3 boxes: a thick line after column 3
    assert all("bt" in (tds[r * 6 + c].get("class") or "") for r in (2, 4) for c in range(6))
    assert page.text.startswith("42")  # the new 4, then the given 2
    puzzle_page = Page(task.render_html(inputs))
    assert puzzle_page.text == "".join(ch for row in puzzle for ch in row if ch != ".")


def test_maze_render_html_colours_like_the_png():
    task = MazeTask(MazeTask.Options(size=9))
    inputs = task.parse(json.loads((EXAMPLES / "maze.json").read_text())["puzzle"])
    answer = inputs.copy()
    open_cell = int(np.flatnonzero(inputs == 2)[0])
    wall_cell = int(np.flatnonzero(inputs == 1)[0])
    answer[[open_cell, wall_cell]] = 5  # one path cell on an open cell, one through a wall
    changed = answer != inputs
    tds = Page(task.render_html(inputs, answer, changed)).find("td")
    assert len(tds) == 81
    style = [t["style"] for t in tds]
    assert style[open_cell] == "background:#ff9900" and style[wall_cell] == "background:#d900d9"
    assert "chg" in tds[open_cell]["class"] and "chg" in tds[wall_cell]["class"]
    other = int(np.flatnonzero((inputs == 1) & ~changed)[0])
    assert style[other] == "background:#262b33" and "dark" in tds[other]["class"]
    page = Page(task.render_html(inputs))
    assert page.text == "SG" or page.text == "GS"
    start = int(np.flatnonzero(inputs == 3)[0])
    assert page.find("td")[start]["style"] == "background:#2e8c33"


def test_arc_render_html_palette_crop_and_forms():
    task = ArcTask(ArcTask.Options(canvas=5))
    inputs = task.parse({"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[0, 1, 2], [3, 4, 5]]}]})
    page = Page(task.render_html(inputs))
    styles = [t["style"] for t in page.find("td")]
    assert styles == ["background:#000000", "background:#0074d9", "background:#ff4136",
                      "background:#2ecc40", "background:#ffdc00", "background:#aaaaaa"]
    answer = inputs.copy()
    answer[1] = 2 + 9  # colour 9 at row 0, column 1
    marks = Page(task.render_html(inputs, answer, changed=answer != inputs)).find("td")
    assert [("chg" in (t.get("class") or "")) for t in marks] == [False, True, False, False, False, False]
    assert marks[1]["style"] == "background:#870c25"
    form = Page(task.render_html(inputs, np.array([[6, 7]]))).find("td")  # a voted attempt (an answer form)
    assert [t["style"] for t in form] == ["background:#f012be", "background:#ff851b"]
    assert "(empty grid)" in task.render_html(inputs, np.zeros(25, dtype=np.int64))


# --- the CLI --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sudoku_run(tmp_path_factory) -> Path:
    """A 4x4 Sudoku model trained for 2 steps (N_sup 3)."""
    root = tmp_path_factory.mktemp("html_sudoku")
    assert exit_code("data", "build", "sudoku", "--out", str(root / "data"), "--size", "4", "--train-size", "16",
                     "--test-size", "4", "--seed", "3") == 0
    run = root / "runs" / "r"
    assert exit_code("train", "--task", "sudoku", "--mixer", "mlp", "--steps", "2", "--data", str(root / "data"),
                     "--out", str(run), "--no-progress", *TINY) == 0
    return run


@pytest.fixture(scope="module")
def sudoku_page(sudoku_run, tmp_path_factory) -> tuple[Path, dict]:
    """(the --html page, the --json answer) of one solve of the 4x4 puzzle."""
    root = tmp_path_factory.mktemp("html_page")
    puzzle = root / "p<&>.json"  # a file name that needs escaping
    puzzle.write_text(json.dumps(PUZZLE_4x4))
    out = root / "steps.html"
    code = exit_code("solve", str(puzzle), "--checkpoint", str(sudoku_run), "--html", str(out), "--json")
    assert code == 0
    return out, root


def test_cli_html_page_of_a_direct_solve(sudoku_run, sudoku_page, capsys, tmp_path):
    out, root = sudoku_page
    text = out.read_text()
    assert_self_contained(text)
    assert "p<&>.json" not in text and "p&lt;&amp;&gt;.json" in text
    page = Page(text)
    assert frames_of(page) == list(range(1, N_SUP + 1))
    assert len(page.find("svg", "chart")) == 1 and len(page.find("circle", "pt")) == N_SUP
    assert str(sudoku_run) in page.text and "sudoku 4x4" in page.text
    code, stdout, err = run_cli(capsys, "solve", str(root / "p<&>.json"), "--checkpoint", str(sudoku_run), "--json",
                                "--html", str(tmp_path / "again.html"))
    assert code == 0, err
    result = json.loads(stdout)
    verdict = "valid" if result["valid"] else "not valid"
    assert f"verdict: {verdict};" in page.text and f"answer at step {result['steps']} of {N_SUP}" in page.text
    assert [a["data-step"] for a in page.find("section", "halt")] == [str(result["steps"])]
    assert page.find("body")[0]["data-start"] == str(result["steps"])
    assert (tmp_path / "again.html").read_text() == text  # the same page again


@pytest.mark.parametrize("where,needle", [("folder", "is a folder"), ("missing/x.html", "no folder")])
def test_cli_html_checks_the_output_path_first(sudoku_run, tmp_path, capsys, where, needle):
    (tmp_path / "folder").mkdir()
    puzzle = tmp_path / "p.json"
    puzzle.write_text(json.dumps(PUZZLE_4x4))
    code, _, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(sudoku_run), "--html",
                           str(tmp_path / where))
    assert code == 2 and "--html" in err and needle in err and err.count("\n") == 1


def test_cli_html_of_an_adapted_arc_task(tmp_path, capsys):
    root = tmp_path
    write_tasks(root / "src" / "training", TRAINING)
    write_tasks(root / "src" / "evaluation", EVALUATION)
    assert exit_code("data", "build", "arc", "--out", str(root / "data"), "--source", f"json:{root / 'src'}",
                     "--aug", "1", "--canvas", "10") == 0
    run = root / "run"
    assert exit_code("train", "--task", "arc", "--steps", "1", "--data", str(root / "data"), "--out", str(run),
                     "--no-progress", *TINY_ARC, "--set", "train.dtype=float32") == 0
    puzzle = root / "task.json"
    puzzle.write_text(json.dumps(UNSEEN))
    out = root / "arc.html"
    code, stdout, err = run_cli(capsys, "solve", str(puzzle), "--checkpoint", str(run), "--adapt-steps", "1",
                                "--versions", "2", "--html", str(out))
    assert code == 0, err
    assert "attempt 1" in stdout  # the text output is unchanged
    text = out.read_text()
    assert_self_contained(text)
    page = Page(text)
    assert frames_of(page) == [1, 2]  # N_sup 2 steps of the one test input's original version
    assert "test 1: the original version's answer per step" in page.text and "Voted attempts" in page.text
    assert "no checker" in page.text and re.search(r"attempt 1: \d of 2 votes", page.text)
    attempts = text[text.index("Voted attempts"):]
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", attempts)
    assert captions[0] == "input" and captions[-1] == "expected"  # the file gives test 1's output
    assert all(re.fullmatch(r"attempt [12]: \d of 2 votes, confidence \d\.\d\d \((correct|wrong)\)", c)
               for c in captions[1:-1]) and len(captions) in (3, 4)
    assert re.search(r"test 1: (attempt [12] correct|wrong)", page.text)  # the verdict line


# --- in a browser -----------------------------------------------------------------------------

def browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.skipif(browser() is None, reason="no headless browser (chromium, chromium-browser or google-chrome) "
                                              "installed")
def test_the_page_script_runs_in_headless_chromium(sudoku_page, tmp_path):
    out, _ = sudoku_page
    dom = subprocess.run([browser(), "--headless", "--disable-gpu", "--no-sandbox", f"--user-data-dir={tmp_path}",
                          "--dump-dom", out.resolve().as_uri()], capture_output=True, text=True, timeout=60,
                         check=False)
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page(dom.stdout)
    body = page.find("body")[0]
    assert body.get("data-ready") == "1", "the page's script did not run to its end"
    assert "js" in body["class"].split()
    assert frames_of(page) == list(range(1, N_SUP + 1))
    current = [a["data-step"] for a in page.find("section", "current")]
    assert current == [body["data-start"]]  # the script shows one frame: the answer's step
    assert "hidden" not in page.find("nav", "controls")[0]
    assert f"step {body['data-start']} of {N_SUP}" in page.text
