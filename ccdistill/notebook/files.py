"""The notebooks as files: execute them in place, clean them, generate the student copies, and
check the rules every stored notebook follows (`ccdistill notebooks ...`, `make notebooks`).

Rules of a solution notebook `notebooks/NN_topic.ipynb` (checked by `check_notebook`, enforced by
tests/notebooks/test_notebook_files.py):

- stored with the outputs of one clean top-to-bottom run: every code cell executed, execution
  counts 1..n in order, no error outputs, no `widgets` metadata (widget state), under 1.5 MB;
- no cell's value is stored as a long plain-text repr (an explorer's `update()` dict, an array):
  a stray last expression, which a reader sees as a wall of numbers (assign it to `_`);
- it imports ccdistill (notebooks call the library, they never re-implement it);
- every explorer is assigned to a name, and a later cell drives it (`name.update(`) and asserts
  on what it computed (`name.last`);
- it ends with a `## Summary` and an `## Exercises` section, and the exercises' solutions sit
  between `### BEGIN SOLUTION hint: ...` and `### END SOLUTION` lines.

The student copy `notebooks/students/NN_topic.ipynb` is the solution notebook with every
solution block replaced by `raise NotImplementedError("hint: ...")`, all outputs cleared and the
hidden tests removed: the student release of ccdistill/notebook/exercises.py (`ccdistill notebooks release`).

Both ship in the wheel as `ccdistill/course/` (in the repository a link to notebooks/), and
`copy_notebooks` (`ccdistill notebooks copy DIR`) puts them in a folder of the user's.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ccdistill.errors import InputError

NAME_PATTERN = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
MAX_BYTES = 1_500_000
MAX_REPR_CHARS = 1000  # a plain-text cell value longer than this is a stray repr, not a result
STUDENTS = "students"
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
HINT_PATTERN = re.compile(r"^(\s*)### BEGIN SOLUTION\s*(?:hint:\s*(.*))?$")
EXPLORERS: tuple[str, ...] = ("TranslationExplorer", "CosineMapExplorer", "CorrelationExplorer", "GramExplorer",
                              "PredictionBrowser", "EmbeddingView")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
STUDENT_NOTE_ID = "student-copy-note"
DEFAULT_TIMEOUT_S = 1800  # per cell; the cpu profile's training cell takes minutes
PACKAGED = "course"  # ccdistill/course: the notebooks in an installed package
COPY_NOTE = """This folder was made by `ccdistill notebooks copy`: the solution notebooks here, the
student copies in students/. Open them with `jupyter lab` from this folder. The notebooks
generate ToyCity into data/ here on first use and write their training runs to runs/ here,
for the student copies too (this file tells them where the folder is).
"""


def _nbformat() -> Any:
    from ccdistill.notebook import require

    return require("nbformat", "working with the notebook files")


def read(path: str | os.PathLike) -> Any:
    """The notebook at `path` (nbformat v4 NotebookNode)."""
    return _nbformat().read(str(path), as_version=4)


def write(notebook: Any, path: str | os.PathLike) -> None:
    """Write `notebook` as nbformat writes it (what `text()` returns)."""
    Path(path).write_text(text(notebook), encoding="utf-8")


def text(notebook: Any) -> str:
    """The file contents of `notebook` (1-space JSON indent, trailing newline, as Jupyter writes)."""
    return _nbformat().writes(notebook) + "\n"


def solution_notebooks(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """The solution notebooks of `folder` (its *.ipynb, not the student copies), sorted by name."""
    return sorted(Path(folder).glob("*.ipynb"))


def student_path(path: str | os.PathLike) -> Path:
    """notebooks/NN_topic.ipynb -> notebooks/students/NN_topic.ipynb."""
    path = Path(path)
    return path.parent / STUDENTS / path.name


# --------------------------------------------------------------------------------------------
# Cleaning and executing


def clean(notebook: Any) -> Any:
    """Strip what a stored notebook must not carry, in place: the `widgets` metadata (the widget
    state, megabytes of PNGs that JupyterLab re-creates from the kernel anyway), per-cell
    execution timing; set the venv's `python3` kernelspec. Returns the notebook."""
    notebook.metadata.pop("widgets", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("widgets", None)
    return notebook


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    # The kernel inherits the environment of the process that starts it.
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute(path: str | os.PathLike, profile: str = "cpu", timeout: int = DEFAULT_TIMEOUT_S) -> float:
    """Run the notebook at `path` top to bottom in a fresh `python3` kernel under `profile`
    ($CCDISTILL_PROFILE), working folder = the notebook's folder; store it cleaned, in place.

    Returns the wall time in seconds. A failing cell raises nbclient's CellExecutionError and
    the file is left as it was."""
    from ccdistill.notebook import require

    nbclient = require("nbclient", "executing the notebooks")
    path = Path(path)
    notebook = read(path)
    start = time.perf_counter()
    with _environment(CCDISTILL_PROFILE=profile):
        client = nbclient.NotebookClient(
            notebook, timeout=timeout, kernel_name=KERNELSPEC["name"], record_timing=False,
            store_widget_state=False, resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        client.execute()
    seconds = time.perf_counter() - start
    write(clean(notebook), path)
    return seconds


# --------------------------------------------------------------------------------------------
# Student copies


def _stub(source: str, where: str) -> str:
    """A cell's source with each BEGIN/END SOLUTION block replaced by a raising stub."""
    lines, out, inside = source.splitlines(), [], False
    for line in lines:
        match = HINT_PATTERN.match(line)
        if match:
            if inside:
                raise InputError(f"{where}: '{BEGIN}' inside another solution block; close it with '{END}' first.")
            indent, hint = match.group(1), (match.group(2) or "").strip()
            if not hint:
                raise InputError(f"{where}: '{BEGIN}' needs a hint for the student copy, e.g. "
                                 f"'{BEGIN} hint: use translate_day(..., method=\"lab\")'.")
            out.append(f"{indent}raise NotImplementedError({('hint: ' + hint)!r})")
            inside = True
        elif line.strip() == END:
            if not inside:
                raise InputError(f"{where}: '{END}' without a '{BEGIN}' above it.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise InputError(f"{where}: '{BEGIN}' is never closed; add a '{END}' line.")
    return "\n".join(out)


def student_copy(notebook: Any, name: str = "the notebook") -> Any:
    """The student version of a solution notebook: solution blocks replaced by
    `raise NotImplementedError("hint: ...")`, outputs and execution counts cleared, a note on top,
    hidden tests removed and test cells locked (`grading.strip_for_release`)."""
    nbformat = _nbformat()
    student = clean(copy.deepcopy(notebook))
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        cell.source = _stub(cell.source, f"{name}, cell {index + 1}")
        cell.outputs, cell.execution_count = [], None
    note = nbformat.v4.new_markdown_cell(
        f"*Student copy of `../{name}`, generated by `ccdistill notebooks students`: the exercises "
        "raise `NotImplementedError` with a hint until you write them. Edit freely; the solutions "
        "are in the notebook of the same name one folder up.*"
    )
    note.id = STUDENT_NOTE_ID
    student.cells.insert(0, note)
    from ccdistill.notebook.exercises import strip_for_release

    return strip_for_release(student)  # hidden tests removed, test cells locked: the release


def write_student_copies(folder: str | os.PathLike = "notebooks") -> list[Path]:
    """Regenerate notebooks/students/ from every solution notebook; returns the files written."""
    written = []
    for path in solution_notebooks(folder):
        target = student_path(path)
        target.parent.mkdir(exist_ok=True)
        write(student_copy(read(path), path.name), target)
        written.append(target)
    return written


def stale_student_copies(folder: str | os.PathLike = "notebooks") -> list[str]:
    """One sentence per solution notebook whose stored student copy is missing or differs from
    the one it generates now (empty when all are in sync)."""
    problems = []
    for path in solution_notebooks(folder):
        target = student_path(path)
        expected = text(student_copy(read(path), path.name))
        if not target.is_file():
            problems.append(f"{target} is missing: run `ccdistill notebooks students`.")
        elif target.read_text(encoding="utf-8") != expected:
            problems.append(f"{target} is out of date with {path.name}: run `ccdistill notebooks students`.")
    return problems


def packaged_folder() -> Path:
    """The notebooks the installed package carries (`ccdistill/course`; in a clone, a link to
    notebooks/). InputError when there are none, e.g. a package built without them."""
    folder = Path(__file__).resolve().parents[1] / PACKAGED
    if not solution_notebooks(folder):
        raise InputError(f"this installation of ccdistill carries no notebooks ({folder} holds none): reinstall "
                         "it from a wheel or a clone, `pip install 'ccdistill[notebooks]'`.")
    return folder


def copy_notebooks(target: str | os.PathLike, force: bool = False) -> list[Path]:
    """Copy the packaged solution notebooks into `target` and their student copies into
    `target`/students, and write `target`/COPY_MARKER, which makes `target` the notebooks' project
    folder (ToyCity in `target`/data, runs in `target`/runs, for the student copies too).

    A notebook already there is a student's work: InputError unless `force`. Returns the notebooks
    written."""
    from ccdistill.notebook import COPY_MARKER

    source, target = packaged_folder(), Path(target)
    pairs = [(path, target / path.name) for path in solution_notebooks(source)]
    pairs += [(student_path(path), student_path(to)) for path, to in pairs]
    existing = [to for _, to in pairs if to.exists()]
    if existing and not force:
        raise InputError(f"{target} already holds {len(existing)} of the notebooks ({existing[0].name}, ...): "
                         "choose a new folder, or pass --force to overwrite them.")
    (target / STUDENTS).mkdir(parents=True, exist_ok=True)
    for path, to in pairs:
        shutil.copyfile(path, to)
    (target / COPY_MARKER).write_text(COPY_NOTE, encoding="utf-8")
    return [to for _, to in pairs]


# --------------------------------------------------------------------------------------------
# Checks of a stored solution notebook


def _headings(notebook: Any) -> list[str]:
    return [line.lstrip("#").strip().lower() for cell in notebook.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if re.match(r"^##\s", line)]


def _explorer_problems(code: list[str]) -> list[str]:
    problems = []
    for index, source in enumerate(code):
        for line in source.splitlines():
            if line.lstrip().startswith(("import ", "from ")):
                continue
            for cls in EXPLORERS:
                if f"{cls}(" not in line:
                    continue
                match = re.match(rf"^\s*(\w+)\s*=\s*(?:[\w.]+\.)?{cls}\(", line)
                if match is None:
                    problems.append(f"code cell {index + 1}: assign the {cls} to a name so a later cell can drive it.")
                    continue
                name = match.group(1)
                later = code[index + 1:]
                if not any(f"{name}.update(" in s and f"{name}.last" in s and "assert" in s for s in later):
                    problems.append(f"code cell {index + 1}: no later cell drives {name} "
                                    f"({name}.update(...)) and asserts on {name}.last.")
    return problems


def check_notebook(path: str | os.PathLike) -> list[str]:
    """One sentence per rule (module docstring) the stored notebook at `path` breaks."""
    path = Path(path)
    problems = []
    if not NAME_PATTERN.match(path.name):
        problems.append(f"name {path.name!r} is not NN_topic.ipynb (two digits, lower-case topic).")
    size = path.stat().st_size
    if size > MAX_BYTES:
        problems.append(f"{size / 1e6:.2f} MB, over the {MAX_BYTES / 1e6} MB limit: fewer or smaller figures.")
    notebook = read(path)
    if "widgets" in notebook.metadata:
        problems.append("widget state stored in the metadata: run `ccdistill notebooks clean` (or `make notebooks`).")
    if notebook.metadata.get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
        problems.append(f"kernelspec is not {KERNELSPEC['name']!r}: run `ccdistill notebooks clean`.")
    cells = [c for c in notebook.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in cells]
    if counts != list(range(1, len(cells) + 1)):
        problems.append(f"execution counts {counts} are not 1..{len(cells)}: store one clean top-to-bottom "
                        "run (`ccdistill notebooks execute`).")
    if not any(c.outputs for c in cells):
        problems.append("stored without outputs: `ccdistill notebooks execute` stores them.")
    errors = [i + 1 for i, c in enumerate(cells) if any(o.output_type == "error" for o in c.outputs)]
    if errors:
        problems.append(f"code cells {errors} stored with an error output.")
    reprs = [i + 1 for i, c in enumerate(cells) for o in c.outputs
             if o.output_type == "execute_result" and set(o.get("data", {})) == {"text/plain"}
             and len("".join(o["data"]["text/plain"])) > MAX_REPR_CHARS]
    if reprs:
        problems.append(f"code cells {reprs} store a plain-text value over {MAX_REPR_CHARS} characters (a stray "
                        "last expression): assign it (`_ = ...`) or print what matters.")
    code = [c.source for c in cells]
    if not any(re.search(r"^\s*(from|import) ccdistill", s, re.M) for s in code):
        problems.append("never imports ccdistill: notebooks call the library.")
    problems += _explorer_problems(code)
    headings = _headings(notebook)
    if headings[-2:] != ["summary", "exercises"]:
        problems.append(f"must end with '## Summary' then '## Exercises' sections; its last ## headings are {headings[-2:]}.")
    if not any(BEGIN in s for s in code):
        problems.append(f"no exercise solution marked with '{BEGIN} hint: ...' / '{END}'.")
    else:
        try:
            student_copy(notebook, path.name)
        except InputError as error:
            problems.append(str(error))
    return problems


# --------------------------------------------------------------------------------------------
# Authoring


def from_script(source: str) -> Any:
    """A notebook from a percent-format script: `# %%` starts a code cell, `# %% [markdown]` a
    markdown cell whose lines drop their leading `# `. The kernelspec is the venv's python3."""
    nbformat = _nbformat()
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    kind, lines = None, []

    def flush() -> None:
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(re.sub(r"^# ?", "", line) for line in body.splitlines())
            notebook.cells.append(nbformat.v4.new_markdown_cell(body))
        elif kind == "code" and body:
            notebook.cells.append(nbformat.v4.new_code_cell(body))

    for line in source.splitlines():
        if line.startswith("# %%"):
            flush()
            kind, lines = ("markdown" if "[markdown]" in line else "code"), []
        elif kind is not None:
            lines.append(line)
    flush()
    # Deterministic cell ids (nbformat's are random): a rebuilt notebook diffs only where it changed.
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
    return notebook
