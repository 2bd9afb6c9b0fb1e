"""Graded exercises (ccdistill/notebook/exercises.py and grading.py, nbgrader's metadata): every exercise has points, visible
and hidden tests; the release carries no solution line and no hidden test; grading gives the
solution full marks, the untouched release zero, a planted wrong answer exactly that exercise's
points off, and rejects every common wrong answer listed in wrong_answers.py.

The seven notebooks are graded after one shared set-up each (`shared_setup=True`): the cells above
the first exercise that the exercises need run once under the `ci` profile (nbval runs the whole
solution notebooks, hidden tests included), then the exercise cells of every submission
(solution, release, planted error, the rounds of wrong answers) run after them in the same kernel.
The fresh-kernel path that `ccdistill notebooks grade` takes is tested on a small notebook."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")
pytest.importorskip("nbclient")

from ccdistill.notebook.exercises import (  # noqa: E402
    HIDDEN_BEGIN, HIDDEN_END, answer_metadata, exercises, grading_problems, graded_tests_metadata,
)
from ccdistill.notebook.grading import grade_notebook  # noqa: E402
from ccdistill.notebook.files import (  # noqa: E402
    END, HINT_PATTERN, from_script, read, solution_notebooks, student_copy, write,
)

from .wrong_answers import PLANTED, WRONG  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SOLUTIONS = solution_notebooks(NOTEBOOKS)
NAMES = [p.name for p in SOLUTIONS]


def with_answer(source: str, body: str) -> str:
    """`source` with the solution block's lines replaced by `body` (indented like the block)."""
    out, inside = [], False
    for line in source.splitlines():
        match = HINT_PATTERN.match(line)
        if match:
            out.append(line)
            out += [match.group(1) + b if b else b for b in body.splitlines()]
            inside = True
        elif line.strip() == END:
            inside = False
            out.append(line)
        elif not inside:
            out.append(line)
    return "\n".join(out)


def submission(solution, answers: dict[str, str]):
    """The solution notebook with the answer cells of `answers` ({grade_id: body}) replaced."""
    notebook = copy.deepcopy(solution)
    for exercise in exercises(notebook):
        if exercise.grade_id in answers:
            cell = notebook.cells[exercise.answer]
            cell.source = with_answer(cell.source, answers[exercise.grade_id])
    return notebook


def secret_lines(notebook) -> set[str]:
    """The lines of the solution blocks and hidden tests that appear nowhere else in the notebook."""
    inside, outside = set(), set()
    for cell in notebook.cells:
        state = None
        for line in cell.source.splitlines():
            stripped = line.strip()
            if HINT_PATTERN.match(line) or stripped.startswith(HIDDEN_BEGIN):
                state = "secret"
                continue
            if stripped in (END, HIDDEN_END):
                state = None
                continue
            if stripped:
                (inside if state else outside).add(stripped)
    return inside - outside


# --------------------------------------------------------------------------------------------
# The metadata and the release (fast)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_exercise_has_points_visible_and_hidden_tests(path):
    notebook = read(path)
    assert grading_problems(notebook) == []
    found = exercises(notebook)
    solution_blocks = sum(c.source.count("### BEGIN SOLUTION") for c in notebook.cells if c.cell_type == "code")
    assert len(found) == solution_blocks >= 3 and all(e.points > 0 for e in found)
    assert set(WRONG[path.name]) == {e.grade_id for e in found}, "every exercise needs its wrong answers"
    assert all(len(v) >= 2 for v in WRONG[path.name].values())


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_notebook_asks_to_predict_or_discuss_and_answers_it(path):
    code = [c.source for c in read(path).cells if c.cell_type == "code" and "BEGIN SOLUTION" in c.source]
    markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    asked = any("Predict first" in s or "Discussion" in s for s in code) or "Predict first" in markdown
    answered = any(("# Answer" in s or "# Why" in s or "# Prediction" in s) for s in code)
    assert asked and answered


def test_the_release_holds_no_solution_line_and_no_hidden_test(tmp_path):
    from ccdistill.cli import main

    assert main(["notebooks", "release", "--folder", str(NOTEBOOKS), "--output", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == NAMES
    for path in SOLUTIONS:
        released = tmp_path / path.name
        # The release is what notebooks/students holds (one mechanism).
        assert released.read_bytes() == (NOTEBOOKS / "students" / path.name).read_bytes()
        text = released.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
        lines = {line.strip() for cell in read(released).cells for line in cell.source.splitlines()}
        secret = secret_lines(read(path))
        assert secret and not secret & lines, sorted(secret & lines)
        # a grep of the file itself (JSON-escaped lines)
        assert not [s for s in secret if re.search(r"(?<![\w.])" + re.escape(json.dumps(s)[1:-1]), text)]
        for exercise in exercises(read(released)):
            cell = read(released).cells[exercise.tests]
            assert cell.metadata["editable"] is False and "assert" in cell.source


def test_release_refuses_to_overwrite_the_solutions(tmp_path):
    from ccdistill.errors import InputError
    from ccdistill.notebook.exercises import write_release

    with pytest.raises(InputError, match="overwrite the solution"):
        write_release(NOTEBOOKS, NOTEBOOKS)


def test_grading_rules_reject_broken_metadata():
    notebook = from_script("# %%\n### BEGIN SOLUTION hint: h\nx = 1\n### END SOLUTION\n# %%\nassert x == 1\n"
                           f"{HIDDEN_BEGIN}\nassert x == 1\n{HIDDEN_END}\n")
    assert any("without nbgrader's answer metadata" in p for p in grading_problems(notebook))
    notebook.cells[0].metadata["nbgrader"] = answer_metadata("q1")
    assert any("not followed by its test cell" in p for p in grading_problems(notebook))
    notebook.cells[1].metadata["nbgrader"] = graded_tests_metadata("q1", 0)
    assert any("without points" in p for p in grading_problems(notebook))
    notebook.cells[1].metadata["nbgrader"] = graded_tests_metadata("q1", 1)
    assert grading_problems(notebook) == []
    notebook.cells[1].source = notebook.cells[1].source.replace(HIDDEN_BEGIN, "").replace(HIDDEN_END, "")
    assert any("one '### BEGIN HIDDEN TESTS'" in p for p in grading_problems(notebook))


def test_shared_setup_runs_only_the_cells_the_exercises_need():
    from ccdistill.notebook.grading import needed_cells

    notebook = from_script("# %%\nnb = 1\n# %%\nimport math\nx = math.pi\n# %%\nimport matplotlib.pyplot as plt\n"
                           "fig, ax = plt.subplots(); ax.plot([x])\n# %%\n!echo {x}\ny = 2\n# %%\nunused = 3\n# %%\n"
                           "### BEGIN SOLUTION hint: h\nz = x * y\n### END SOLUTION\n# %%\n"
                           f"assert z > 0\n{HIDDEN_BEGIN}\nassert abs(z - 2 * math.pi) < 1e-9\n{HIDDEN_END}\n")
    notebook.cells[5].metadata["nbgrader"] = answer_metadata("q")
    notebook.cells[6].metadata["nbgrader"] = graded_tests_metadata("q", 1)
    assert needed_cells(notebook) == [0, 1, 3, 5, 6]  # not the figure, not the unused cell


# --------------------------------------------------------------------------------------------
# `ccdistill notebooks grade`: fresh kernels, on a small notebook

TOY = f"""# %%
import math
# %% [markdown]
# ## Exercises
# %%
### BEGIN SOLUTION hint: math.sqrt
root = math.sqrt(2)
### END SOLUTION
# %%
assert root > 1
{HIDDEN_BEGIN}
assert abs(root - 2 ** 0.5) < 1e-12
{HIDDEN_END}
# %%
### BEGIN SOLUTION hint: 2 ** 10
power = 2 ** 10
### END SOLUTION
# %%
assert power > 1000
{HIDDEN_BEGIN}
assert power == 1024
{HIDDEN_END}
"""


@pytest.mark.slow
def test_grade_command_grades_a_folder_of_submissions(tmp_path, capsys):
    from ccdistill.cli import main

    solution = from_script(TOY)
    for index, (grade_id, points) in zip((2, 4), (("root", 1), ("power", 2))):
        solution.cells[index].metadata["nbgrader"] = answer_metadata(grade_id)
        solution.cells[index + 1].metadata["nbgrader"] = graded_tests_metadata(grade_id, points)
    assert grading_problems(solution) == []
    source = tmp_path / "notebooks"
    source.mkdir()
    write(solution, source / "01_toy.ipynb")
    submitted = tmp_path / "submitted"
    wrong = submission(solution, {"root": "root = 1.5"})  # passes the visible test only
    for student, notebook in (("ada", solution), ("bob", student_copy(solution, "01_toy.ipynb")), ("cy", wrong)):
        (submitted / student).mkdir(parents=True)
        write(notebook, submitted / student / "01_toy.ipynb")
    output = tmp_path / "grades.csv"
    assert main(["notebooks", "grade", str(submitted), "--folder", str(source), "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    rows = output.read_text().splitlines()
    assert rows[0] == "student,notebook,exercise,points,max_points,message"
    points = {tuple(r.split(",")[:3]): float(r.split(",")[3]) for r in rows[1:]}
    assert points == {("ada", "01_toy.ipynb", "root"): 1, ("ada", "01_toy.ipynb", "power"): 2,
                      ("bob", "01_toy.ipynb", "root"): 0, ("bob", "01_toy.ipynb", "power"): 0,
                      ("cy", "01_toy.ipynb", "root"): 0, ("cy", "01_toy.ipynb", "power"): 2}
    assert "ada" in printed and "3/3" in printed and "NameError" in printed and "AssertionError" in printed


# --------------------------------------------------------------------------------------------
# The course notebooks: one shared set-up per notebook, every case graded after it


def _cases(path: Path) -> tuple[dict, dict]:
    """The submissions of one notebook and, per submission, the exercises that must get 0."""
    solution = read(path)
    ids = [e.grade_id for e in exercises(solution)]
    wrong = WRONG[path.name]
    planted = PLANTED[path.name]
    # The release first and the solution last: files an answer writes stay on disk for the next
    # submission in a shared kernel, so no wrong answer is graded after a right one left its file.
    submissions = {"release": student_copy(solution, path.name)}
    failing = {"release": set(ids)}
    # CCDISTILL_WRONG_ANSWER_ROUNDS=N grades only the first N wrong answers of each exercise
    # (default: all; each round is one more run of the exercise cells).
    rounds = max(len(v) for v in wrong.values())
    rounds = min(rounds, int(os.environ.get("CCDISTILL_WRONG_ANSWER_ROUNDS", rounds)))
    for k in range(rounds):
        answers = {g: v[k][1] for g, v in wrong.items() if k < len(v)}
        submissions[f"wrong-{k + 1}"] = submission(solution, answers)
        failing[f"wrong-{k + 1}"] = set(answers)
    submissions["planted"] = submission(solution, {planted: wrong[planted][0][1]})
    failing["planted"] = {planted}
    submissions["solution"] = solution
    failing["solution"] = set()
    return submissions, failing


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_grading_the_notebook_gives_the_points_each_case_deserves(path):
    from ccdistill.notebook.grading import points_table

    submissions, failing = _cases(path)
    grades = grade_notebook(path, submissions, profile="ci", shared_setup=True, timeout=600)
    print("\n" + points_table(grades))
    for g in grades:  # which test rejects each wrong answer (the report of issue 17, item 7)
        if g.student.startswith("wrong-") and g.grade_id in failing[g.student]:
            what = WRONG[path.name][g.grade_id][int(g.student.split("-")[1]) - 1][0]
            print(f"REJECTED {g.grade_id} | {what} | {g.message}")
    wrong_points = [(g.student, g.grade_id, g.points, g.message) for g in grades
                    if (g.points == 0) != (g.grade_id in failing[g.student])]
    assert wrong_points == [], "\n".join(
        f"{s}: {gid} got {p:g} points" + (f" ({m})" if m else "") +
        (f"; wrong answer: {WRONG[path.name][gid][int(s.split('-')[1]) - 1][0]}" if s.startswith("wrong-") else "")
        for s, gid, p, m in wrong_points)
    assert all(g.points in (0, g.max_points) for g in grades)
