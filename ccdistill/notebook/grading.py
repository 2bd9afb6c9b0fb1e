"""Grading a folder of submitted notebooks into a table of points per exercise
(`ccdistill notebooks grade`); the exercises' metadata and the student release are in
`ccdistill/notebook/exercises.py`.

Grading puts each submission's answer cells into the solution notebook (every other cell, hidden
tests included, comes from the solution notebook, as nbgrader's OverwriteCells does for locked
cells), runs it in a fresh kernel and scores every test cell with
`nbgrader.utils.determine_grade` (full points unless it raises or writes to stderr).
"""

from __future__ import annotations

import copy
import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ccdistill.errors import InputError
from ccdistill.notebook.exercises import _meta, _nbgrader, exercises, max_points

# Run in the kernel between two submissions graded after one shared set-up: forget every name
# the previous submission defined (IPython's own `_...` names stay), close its figures.
_SNAPSHOT = "_ccdistill_grading_names = set(globals())"
_RESET = ("for _name in [n for n in list(globals()) if n not in _ccdistill_grading_names and not n.startswith('_')]:\n"
          "    del globals()[_name]\n"
          "import matplotlib.pyplot as _plt\n_plt.close('all')")

# --------------------------------------------------------------------------------------------
# Grading


def assemble(source: Any, submission: Any) -> Any:
    """The notebook that is graded: the solution notebook `source` with each answer cell's
    source taken from the submission's cell of the same grade_id (by cell id if the metadata was
    lost; empty when the submission has no such cell). Outputs cleared."""
    answers: dict[str, str] = {}
    by_id: dict[str, str] = {}
    for cell in submission.cells:
        if cell.cell_type != "code":
            continue
        if _meta(cell).get("grade_id"):
            answers[_meta(cell)["grade_id"]] = cell.source
        if cell.get("id"):
            by_id[cell["id"]] = cell.source
    graded = copy.deepcopy(source)
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        meta = _meta(cell)
        if meta.get("solution"):
            cell.source = answers.get(meta["grade_id"], by_id.get(cell.get("id"), ""))
    return graded


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def failing_line(output: Any) -> str:
    """The source line an error output's traceback points at last (IPython's `---->` arrow)."""
    lines = [line for entry in output.get("traceback", []) for line in _ANSI.sub("", entry).splitlines()]
    arrows = [re.sub(r"^-*>\s*\d*\s*", "", line).strip() for line in lines if re.match(r"^-+>", line)]
    return arrows[-1] if arrows else ""


def _message(cell: Any) -> str:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            where = failing_line(output)
            text = f"{output.ename}: {output.evalue}".splitlines()[0][:160]
            return text + (f" (at: {where[:120]})" if where else "")
        if output.output_type == "stream" and output.name == "stderr":
            return "wrote to stderr: " + output.text.strip().splitlines()[0][:140] if output.text.strip() else "stderr"
    return ""


@dataclass
class Grade:
    student: str
    notebook: str
    grade_id: str
    points: float
    max_points: float
    message: str = ""  # why points were lost (the test's error)


def _grades(student: str, name: str, notebook: Any) -> list[Grade]:
    from nbgrader.utils import determine_grade

    grades = []
    for exercise in exercises(notebook):
        cell = notebook.cells[exercise.tests]
        points, maximum = determine_grade(cell)
        grades.append(Grade(student, name, exercise.grade_id, float(points or 0.0), maximum,
                            _message(cell) if not points else ""))
    return grades


def _client(notebook: Any, folder: Path, timeout: int) -> Any:
    from ccdistill.notebook import require
    from ccdistill.notebook.files import KERNELSPEC

    nbclient = require("nbclient", "grading the notebooks")
    return nbclient.NotebookClient(notebook, timeout=timeout, kernel_name=KERNELSPEC["name"], allow_errors=True,
                                   record_timing=False, store_widget_state=False,
                                   resources={"metadata": {"path": str(folder.resolve())}})


def _python(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)  # `!cmd` and `%magic` lines as Python
    except ImportError:  # pragma: no cover - IPython comes with every kernel
        return source


def _names(source: str) -> tuple[set[str], set[str]]:
    """(names a cell binds, names it reads); everything for a cell that does not parse."""
    import ast

    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return {"*"}, {"*"}
    binds, reads = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (binds if isinstance(node.ctx, (ast.Store, ast.Del)) else reads).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            binds.update((a.asname or a.name).split(".")[0] for a in node.names)
    return binds, reads


def needed_cells(notebook: Any) -> list[int]:
    """The code cells grading needs: every exercise cell, the first cell (`nb = setup()`) and,
    walking upwards, every cell that binds a name a needed cell reads. Cells that only draw,
    print or drive an explorer are left out."""
    graded = {i for e in exercises(notebook) for i in (e.answer, e.tests)}
    code = [i for i, c in enumerate(notebook.cells) if c.cell_type == "code"]
    reads, binds = set(), set()
    for index in graded:
        cell_binds, cell_reads = _names(notebook.cells[index].source)
        reads, binds = reads | cell_reads, binds | cell_binds
    needed = reads - binds  # what the exercises take from other cells (their answers bind the rest)
    chosen = []
    for index in reversed(code):
        if index in graded:
            chosen.append(index)
            continue
        cell_binds, cell_reads = _names(notebook.cells[index].source)
        if index == code[0] or "*" in cell_binds or cell_binds & needed:
            chosen.append(index)
            needed |= cell_reads
    return sorted(chosen)


def _tolerant_client(notebook: Any, folder: Path, timeout: int) -> Any:
    """A NotebookClient that ignores display updates aimed at outputs of cells it no longer
    holds (an explorer's figure drawn in an earlier submission's cell)."""
    client = _client(notebook, folder, timeout)
    update = client._update_display_id

    def tolerant(display_id: str, msg: dict) -> None:
        try:
            update(display_id, msg)
        except (IndexError, KeyError):
            pass

    client._update_display_id = tolerant
    return client


def grade_notebook(source_path: str | os.PathLike, submissions: dict[str, Any], profile: str = "ci",
                   timeout: int = 1800, shared_setup: bool = False) -> list[Grade]:
    """Grade the `submissions` ({student: notebook}) of one solution notebook.

    Each submission runs in a fresh kernel, from the top (`shared_setup=False`, what
    `ccdistill notebooks grade` does). With `shared_setup=True` only the cells above the first
    answer that the exercises need (`needed_cells`) run, once, without drawing figures (the Agg
    backend), and every submission's exercise cells run after them in the same kernel, the
    names the previous one defined deleted first (with the cells between the exercises that they
    need): minutes faster, but it trusts the submissions not to change shared objects or files
    (the tests use it on known submissions)."""
    from ccdistill.notebook.files import _environment, read

    _nbgrader()
    source_path = Path(source_path)
    source = read(source_path)
    found = exercises(source)
    if not found:
        raise InputError(f"{source_path} has no graded exercise (nbgrader metadata): nothing to grade.")
    grades: list[Grade] = []
    environment = {"CCDISTILL_PROFILE": profile, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    if shared_setup:
        environment["MPLBACKEND"] = "agg"  # nothing is shown: no figure is rendered to PNG
    with _environment(**environment):
        if not shared_setup:
            for student, submission in submissions.items():
                graded = assemble(source, submission)
                _client(graded, source_path.parent, timeout).execute()
                grades += _grades(student, source_path.name, graded)
            return grades
        first = found[0].answer
        setup = copy.deepcopy(source)
        client = _tolerant_client(setup, source_path.parent, timeout)
        from nbformat.v4 import new_code_cell

        with client.setup_kernel():
            needed = needed_cells(setup)
            for index in [i for i in needed if i < first]:
                cell = setup.cells[index]
                cell.outputs = []
                client.execute_cell(cell, index)
                if any(o.output_type == "error" for o in cell.outputs):
                    raise InputError(f"{source_path.name}, cell {index + 1} failed while setting up the grading: "
                                     f"{_message(cell)}")
            client.execute_cell(new_code_cell(_SNAPSHOT), first)
            for student, submission in submissions.items():
                client.execute_cell(new_code_cell(_RESET), first)
                graded = assemble(source, submission)
                for index in [i for i in needed if i >= first]:
                    if graded.cells[index].cell_type == "code":
                        setup.cells[index] = graded.cells[index]  # where the client routes display updates
                        client.execute_cell(graded.cells[index], index)
                grades += _grades(student, source_path.name, graded)
    return grades


def find_submissions(folder: str | os.PathLike, names: Iterable[str]) -> dict[str, dict[str, Path]]:
    """{notebook name: {student: path}} for the submitted notebooks under `folder`: either
    `folder/<student>/NN_topic.ipynb` (a class) or `folder/NN_topic.ipynb` (one student, named
    after the folder). Only notebooks whose name is one of `names`."""
    folder, names = Path(folder), set(names)
    if not folder.is_dir():
        raise InputError(f"no folder {folder}: pass the folder of submitted notebooks.")
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts or path.name not in names:
            continue
        relative = path.parent.relative_to(folder)
        student = folder.resolve().name if relative == Path(".") else relative.as_posix()
        found.setdefault(path.name, {})[student] = path
    if not found:
        raise InputError(f"no submitted notebook under {folder} is named like a course notebook ({sorted(names)[0]}, ...).")
    return found


def grade_folder(submissions: str | os.PathLike, source_folder: str | os.PathLike = "notebooks", profile: str = "ci",
                 timeout: int = 1800, shared_setup: bool = False) -> list[Grade]:
    """Grade every submitted notebook under `submissions` against the solution notebook of the
    same name in `source_folder`."""
    from ccdistill.notebook.files import read, solution_notebooks

    sources = {path.name: path for path in solution_notebooks(source_folder) if exercises(read(path))}
    grades: list[Grade] = []
    for name, students in sorted(find_submissions(submissions, sources).items()):
        notebooks = {student: read(path) for student, path in students.items()}
        grades += grade_notebook(sources[name], notebooks, profile, timeout, shared_setup)
    return grades


def points_table(grades: list[Grade]) -> str:
    """A plain-text table: one row per student and notebook, one column per exercise, the total."""
    rows: dict[tuple[str, str], list[Grade]] = {}
    for grade in grades:
        rows.setdefault((grade.student, grade.notebook), []).append(grade)
    lines = []
    for (student, notebook), cells in rows.items():
        got, maximum = sum(g.points for g in cells), sum(g.max_points for g in cells)
        marks = "  ".join(f"{g.grade_id} {g.points:g}/{g.max_points:g}" for g in cells)
        lines.append(f"{student:16} {notebook:30} {got:4g}/{maximum:<4g} {marks}")
    return "\n".join(lines)


def write_csv(grades: list[Grade], path: str | os.PathLike) -> None:
    """The grades as CSV: student, notebook, exercise, points, max_points, message."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "notebook", "exercise", "points", "max_points", "message"])
        for g in grades:
            writer.writerow([g.student, g.notebook, g.grade_id, f"{g.points:g}", f"{g.max_points:g}", g.message])
