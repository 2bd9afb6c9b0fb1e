"""Graded exercises: the solution notebooks carry nbgrader's cell metadata, and the student release
drops the solutions and the hidden tests (`ccdistill notebooks release`); grading a folder of
submissions is `ccdistill/notebook/grading.py` (`ccdistill notebooks grade`).

Every exercise of a solution notebook `notebooks/NN_topic.ipynb` is two code cells (checked by
`grading_problems`, enforced by tests/notebooks/test_grading.py):

- the **answer cell** (nbgrader "Autograded answer": `solution: true`, a `grade_id`): the
  solution between `### BEGIN SOLUTION hint: ...` and `### END SOLUTION`, which the release
  replaces by `raise NotImplementedError("hint: ...")`;
- the **test cell** right after it (nbgrader "Autograder tests": `grade: true`, `locked: true`,
  `points`, the grade_id `<answer id>-tests`): visible asserts the student runs, then
  `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`, which check the values against a
  reference computed there, with a tolerance (removed from the release, put back for grading).

The metadata is nbgrader's (schema 3), so the same notebooks also work in nbgrader's own
course workflow (`nbgrader generate_assignment`, `autograde`, formgrader). The commands here
need no course folder or gradebook: grading puts each submission's answer cells into the solution
notebook (every other cell, hidden tests included, comes from the solution notebook, as
nbgrader's OverwriteCells does for locked cells), runs it in a fresh kernel and scores every
test cell with `nbgrader.utils.determine_grade` (full points unless it raises or writes to
stderr).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccdistill.errors import InputError

SCHEMA_VERSION = 3
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
TESTS_SUFFIX = "-tests"


def _nbgrader() -> Any:
    from ccdistill.notebook import require

    return require("nbgrader", "grading the exercises (pip install 'ccdistill[grading]')")


def _meta(cell: Any) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def answer_metadata(grade_id: str) -> dict:
    """nbgrader's metadata of an autograded answer cell."""
    return {"grade": False, "grade_id": grade_id, "locked": False, "schema_version": SCHEMA_VERSION,
            "solution": True, "task": False}


def graded_tests_metadata(grade_id: str, points: float) -> dict:
    """nbgrader's metadata of an autograder test cell worth `points`."""
    return {"grade": True, "grade_id": grade_id + TESTS_SUFFIX, "locked": True, "points": points,
            "schema_version": SCHEMA_VERSION, "solution": False, "task": False}


@dataclass(frozen=True)
class Exercise:
    grade_id: str  # the answer cell's
    points: float
    answer: int  # cell indices in the notebook
    tests: int


def exercises(notebook: Any) -> list[Exercise]:
    """The graded exercises of a solution notebook, in order (answer cell followed by its tests)."""
    found = []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        meta = _meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and index + 1 < len(cells):
            tests = _meta(cells[index + 1])
            if tests.get("grade") and not tests.get("solution"):
                found.append(Exercise(meta["grade_id"], float(tests["points"]), index, index + 1))
    return found


def max_points(notebook: Any) -> float:
    return sum(e.points for e in exercises(notebook))


def grading_problems(notebook: Any) -> list[str]:
    """One sentence per grading rule (module docstring) the solution notebook breaks."""
    problems, ids = [], []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        meta, where = _meta(cell), f"cell {index + 1}"
        has_solution = cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source
        if has_solution and not meta.get("solution"):
            problems.append(f"{where}: a solution block in a cell without nbgrader's answer metadata "
                            "(grading.answer_metadata).")
        if HIDDEN_BEGIN in cell.source and not meta.get("grade"):
            problems.append(f"{where}: hidden tests in a cell that is not an nbgrader test cell.")
        if not meta:
            continue
        if meta.get("schema_version") != SCHEMA_VERSION:
            problems.append(f"{where}: nbgrader schema_version is not {SCHEMA_VERSION}.")
        ids.append(meta.get("grade_id"))
        if meta.get("solution"):
            if not has_solution:
                problems.append(f"{where}: an answer cell without a '### BEGIN SOLUTION hint: ...' block.")
            tests = cells[index + 1] if index + 1 < len(cells) else None
            if tests is None or not _meta(tests).get("grade") or \
                    _meta(tests).get("grade_id") != meta.get("grade_id", "") + TESTS_SUFFIX:
                problems.append(f"{where}: answer {meta.get('grade_id')!r} is not followed by its test cell "
                                f"{meta.get('grade_id')!r}{TESTS_SUFFIX!r}.")
        if meta.get("grade"):
            if not meta.get("locked") or meta.get("solution"):
                problems.append(f"{where}: a test cell must be locked and not a solution cell.")
            if not float(meta.get("points", 0)) > 0:
                problems.append(f"{where}: a test cell without points.")
            visible, hidden = cell.source.split(HIDDEN_BEGIN)[0], cell.source.count(HIDDEN_BEGIN)
            if "assert" not in visible:
                problems.append(f"{where}: no visible assert before the hidden tests (the student's check).")
            if hidden != 1 or cell.source.count(HIDDEN_END) != 1:
                problems.append(f"{where}: needs one '{HIDDEN_BEGIN}' ... '{HIDDEN_END}' region.")
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"grade_ids used twice: {duplicates}.")
    if any("### BEGIN SOLUTION" in c.source for c in cells if c.cell_type == "code") and not exercises(notebook):
        problems.append("no graded exercise (an answer cell followed by its test cell).")
    return problems


# --------------------------------------------------------------------------------------------
# The release


def strip_for_release(notebook: Any) -> Any:
    """In place: remove the hidden tests (nbgrader's ClearHiddenTests) and lock the test cells
    (nbgrader's LockCells: not deletable, not editable). Used by `notebook.files.student_copy`,
    so notebooks/students/ is the release. Returns the notebook."""
    if not any(_meta(c) for c in notebook.cells):
        return notebook  # no grading metadata: nothing hidden
    _nbgrader()
    from nbgrader.preprocessors import ClearHiddenTests, LockCells

    resources: dict = {}
    for preprocessor in (ClearHiddenTests(), LockCells()):
        notebook, resources = preprocessor.preprocess(notebook, resources)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = cell.source.rstrip("\n")
    return notebook


def write_release(folder: str | os.PathLike, target: str | os.PathLike) -> list[Path]:
    """The student release of every solution notebook of `folder` into `target` (the same files
    as notebooks/students/). Returns the files written."""
    from ccdistill.notebook.files import read, solution_notebooks, student_copy, write

    target = Path(target)
    if target.resolve() == Path(folder).resolve():
        raise InputError(f"the release would overwrite the solution notebooks in {folder}: choose another folder.")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in solution_notebooks(folder):
        write(student_copy(read(path), path.name), target / path.name)
        written.append(target / path.name)
    return written
