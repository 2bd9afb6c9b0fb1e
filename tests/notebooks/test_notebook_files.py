"""The stored notebooks follow the rules of ccdistill/notebook/files.py (outputs of one clean
run, counts in order, no widget state, size, names, explorers driven and asserted, Summary and
Exercises with marked solutions), and their student copies are in sync."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from ccdistill.errors import InputError  # noqa: E402
from ccdistill.notebook.files import (  # noqa: E402
    check_notebook, from_script, solution_notebooks, stale_student_copies, student_copy, text, write,
    write_student_copies,
)

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SOLUTIONS = solution_notebooks(NOTEBOOKS)


def test_the_course_notebooks_are_there():
    names = [p.name for p in SOLUTIONS]
    assert names[:2] == ["00_setup.ipynb", "01_day_night_data.ipynb"], names


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_stored_notebook_follows_the_rules(path):
    assert check_notebook(path) == []


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_calls_the_library_through_setup(path):
    first = next(c for c in nbformat.read(path, 4).cells if c.cell_type == "code")
    assert "from ccdistill.notebook import setup" in first.source and "setup(" in first.source


def test_student_copies_are_up_to_date():
    assert stale_student_copies(NOTEBOOKS) == []


def test_student_copy_replaces_solutions_and_clears_outputs():
    for path in SOLUTIONS:
        solution = nbformat.read(path, 4)
        student = student_copy(solution, path.name)
        code = [c for c in student.cells if c.cell_type == "code"]
        sources = "\n".join(c.source for c in code)
        assert "### BEGIN SOLUTION" not in sources and "### END SOLUTION" not in sources
        assert sources.count('raise NotImplementedError("hint: ') + sources.count("raise NotImplementedError('hint: ") \
            == "\n".join(c.source for c in solution.cells if c.cell_type == "code").count("### BEGIN SOLUTION")
        assert all(c.outputs == [] and c.execution_count is None for c in code)
        assert "widgets" not in student.metadata


def test_changed_solution_without_regenerated_copy_fails(tmp_path):
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    path = folder / SOLUTIONS[0].name
    notebook = nbformat.read(path, 4)
    notebook.cells[-1].source += "\nprint('a changed check')"  # outside the solution block
    write(notebook, path)
    problems = stale_student_copies(folder)
    assert len(problems) == 1 and path.name in problems[0] and "ccdistill notebooks students" in problems[0]
    write_student_copies(folder)
    assert stale_student_copies(folder) == []
    # Only a solution changed: the student copy stays the same (the block is replaced anyway).
    notebook.cells[-1].source = notebook.cells[-1].source.replace("### END SOLUTION", "z = 0\n### END SOLUTION")
    write(notebook, path)
    assert stale_student_copies(folder) == []


def test_stub_needs_a_hint_and_a_closed_block():
    for source, message in (
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "needs a hint"),
        ("### BEGIN SOLUTION hint: h\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without a"),
    ):
        notebook = from_script(f"# %%\n{source}\n")
        with pytest.raises(InputError, match=message):
            student_copy(notebook)


def test_stub_keeps_the_indentation_and_the_check_after_it():
    notebook = from_script("# %%\ndef f():\n    ### BEGIN SOLUTION hint: return 2\n    return 2\n    ### END SOLUTION\nassert f() == 2\n")
    assert student_copy(notebook).cells[1].source == \
        "def f():\n    raise NotImplementedError('hint: return 2')\nassert f() == 2"


def _executed(script: str) -> object:
    notebook = from_script(script)
    for count, cell in enumerate((c for c in notebook.cells if c.cell_type == "code"), start=1):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    return notebook


GOOD = """# %%
from ccdistill.notebook import setup
explorer = TranslationExplorer(a, b)
# %%
explorer.update(beta=0.1)
assert explorer.last["gap_after"] < 1
# %% [markdown]
# ## Summary
# %% [markdown]
# ## Exercises
# %%
### BEGIN SOLUTION hint: h
y = 1
### END SOLUTION
"""


def test_rules_accept_a_good_notebook(tmp_path):
    write(_executed(GOOD), tmp_path / "07_good.ipynb")
    assert check_notebook(tmp_path / "07_good.ipynb") == []


@pytest.mark.parametrize("change, expected", [
    (lambda nb: nb.metadata.__setitem__("widgets", {"state": {}}), "widget state"),
    (lambda nb: setattr(nb.cells[1], "execution_count", 5), "execution counts"),
    (lambda nb: setattr(nb.cells[1], "execution_count", None), "execution counts"),
    (lambda nb: nb.cells.pop(1), "no later cell drives explorer"),
    (lambda nb: nb.cells.pop(2), "Summary"),
    (lambda nb: setattr(nb.cells[0], "source", "import numpy\nexplorer = TranslationExplorer(a, b)"), "never imports ccdistill"),
    (lambda nb: setattr(nb.cells[0], "source", "from ccdistill import x\nTranslationExplorer(a, b)"), "assign the TranslationExplorer"),
    (lambda nb: setattr(nb.cells[-1], "source", "y = 1"), "no exercise solution"),
    (lambda nb: nb.cells[1].outputs.append(nbformat.v4.new_output("error", ename="E", evalue="v", traceback=[])), "error output"),
    (lambda nb: nb.cells[1].outputs.append(nbformat.v4.new_output(
        "execute_result", data={"text/plain": "{'delta_S': array(" + "1.0, " * 400 + ")}"}, execution_count=2)),
     "stray last expression"),
])
def test_rules_reject_a_broken_notebook(tmp_path, change, expected):
    notebook = _executed(GOOD)
    change(notebook)
    write(notebook, tmp_path / "07_bad.ipynb")
    problems = check_notebook(tmp_path / "07_bad.ipynb")
    assert any(expected in p for p in problems), problems


def test_rules_reject_names_and_sizes(tmp_path):
    notebook = _executed(GOOD)
    notebook.cells[1].outputs[0].text = "x" * 1_600_000
    write(notebook, tmp_path / "Notebook 7.ipynb")
    problems = " ".join(check_notebook(tmp_path / "Notebook 7.ipynb"))
    assert "NN_topic.ipynb" in problems and "1.5 MB" in problems


def test_stored_text_is_what_write_produces():
    for path in SOLUTIONS:
        assert path.read_text(encoding="utf-8") == text(nbformat.read(path, 4))


def test_python3_kernel_is_this_environment():
    """The notebooks' kernelspec `python3` starts this interpreter: jupyter_client replaces a bare
    `python` in the kernel's argv by sys.executable, so the venv's kernel runs the venv's Python."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert "ipykernel" in " ".join(spec.argv)
    command = KernelManager(kernel_name="python3").format_kernel_cmd()
    assert Path(command[0]).resolve() == Path(sys.executable).resolve(), command
    for path in SOLUTIONS:
        assert nbformat.read(path, 4).metadata.kernelspec.name == "python3"


# --------------------------------------------------------------------------------------------
# Clean stored outputs (issue 17, item 5): no absolute path of the machine that ran a notebook,
# no stderr stream (JupyterLab and GitHub show it as a red warning box).

MACHINE_PATH = re.compile(r"(?<![\w.~:/-])(?:/(?:work|home|root|tmp|Users|mnt|private|var/folders)/|[A-Za-z]:\\)")
TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")
STUDENTS = sorted((NOTEBOOKS / "students").glob("*.ipynb"))


def output_problems(notebook) -> list[str]:
    """One line per stderr stream and per absolute machine path in a notebook's text (sources
    and text outputs; images are left out: base64 holds '/' by chance)."""
    problems = []
    for index, cell in enumerate(notebook.cells, start=1):
        texts = [("source", cell.source)]
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                if output.name == "stderr":
                    problems.append(f"cell {index} (stderr): {output.text[:80]!r}")
                texts.append((output.name, output.text))
            elif output.output_type == "error":
                texts.append(("traceback", "\n".join(output.traceback)))
            else:
                texts += [(kind, str(output.data[kind])) for kind in TEXT_TYPES if kind in output.get("data", {})]
        for where, text in texts:
            for match in MACHINE_PATH.finditer(text):
                line = text[text.rfind("\n", 0, match.start()) + 1:text.find("\n", match.end()) % (len(text) + 1)]
                problems.append(f"cell {index} ({where}): absolute path {line.strip()[:120]!r}")
    return problems


@pytest.mark.parametrize("path", SOLUTIONS + STUDENTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_stored_notebook_names_no_machine_path_and_has_no_stderr(path):
    assert output_problems(nbformat.read(path, 4)) == []


SEEDS = {
    "a stdout path": lambda: nbformat.v4.new_output("stream", name="stdout", text="runs in /work/alice/ccdistill/runs\n"),
    "a home folder": lambda: nbformat.v4.new_output("stream", name="stdout", text="ToyCity at /home/bob/data/toycity\n"),
    "a stderr line": lambda: nbformat.v4.new_output("stream", name="stderr", text="ccdistill: resumed from ckpt\n"),
    "a path in html": lambda: nbformat.v4.new_output("display_data", data={"text/html": "<b>/tmp/x/deploy.pt</b>"}),
    "a Windows path": lambda: nbformat.v4.new_output("execute_result", data={"text/plain": "'C:\\\\Users\\\\c\\\\run'"},
                                                     execution_count=1),
}


@pytest.mark.parametrize("seed", SEEDS)
def test_the_check_catches_a_notebook_seeded_with(seed, tmp_path):
    path = tmp_path / SOLUTIONS[0].name
    notebook = nbformat.read(SOLUTIONS[0], 4)
    for cell in notebook.cells:  # a clean copy first: the stored outputs may predate the fix
        if cell.cell_type == "code":
            cell.outputs = []
    assert output_problems(notebook) == []
    first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")
    notebook.cells[first].outputs.append(SEEDS[seed]())
    write(notebook, path)
    problems = output_problems(nbformat.read(path, 4))
    assert len(problems) == 1 and problems[0].startswith(f"cell {first + 1} "), problems


def test_relative_urls_and_slashes_are_not_machine_paths():
    notebook = from_script("# %%\nprint('see https://github.com/work/x and runs/notebooks/cpu/full, a/home/b')\n")
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="docs/work/ ../runs/tmp/\n")]
    assert output_problems(notebook) == []


def test_status_lines_go_to_stdout_with_repository_relative_paths(capsys, monkeypatch):
    from ccdistill.notebook import project_root, shown_path
    from ccdistill.workflow.runs import _StatusLines, _say

    repo = project_root(NOTEBOOKS)
    monkeypatch.chdir(NOTEBOOKS)  # as a kernel runs
    assert shown_path(repo / "runs" / "notebooks" / "cpu") == "runs/notebooks/cpu"
    assert shown_path("/elsewhere/toycity") == "/elsewhere/toycity"  # outside the repository: as given
    messages: list[str] = []
    _say(messages, f"{shown_path(repo / 'runs' / 'x')} holds a finished run")
    _StatusLines(repo).write(f"ccdistill: resumed from {repo / 'runs' / 'x' / 'ckpt_0000600.pt'}\n")
    out, err = capsys.readouterr()
    assert err == "" and out == "ccdistill: runs/x holds a finished run\nccdistill: resumed from runs/x/ckpt_0000600.pt\n"
    assert messages == ["runs/x holds a finished run"]


# --------------------------------------------------------------------------------------------
# The course header and footer (issue 17, item 6).

PROVENANCE_LINK = "../docs/METHOD.md#10-provenance-what-the-paper-shows-and-what-is-inferred"


def _header(notebook) -> str:
    """The markdown before the first code cell: the title and the course header."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            break
        cells.append(cell.source)
    return "\n\n".join(cells)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_opens_with_objectives_prerequisites_and_measured_time(path):
    header = _header(nbformat.read(path, 4))
    assert header.startswith("# ") and "**Learning objectives" in header and header.count("\n- ") >= 2, header
    assert re.search(r"\*\*Prerequisites[:.]?\*\*", header), header
    time = re.search(r"\*\*Time[^\n]*", header)
    assert time and "measured" in time.group() and re.search(r"\d+ s\b", time.group()), header


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_notebook_ends_with_references_and_provenance(path):
    footer = nbformat.read(path, 4).cells[-1]
    assert footer.cell_type == "markdown" and re.match(r"### References", footer.source), footer.source[:80]
    assert "arXiv" in footer.source and "2205.00858" in footer.source
    assert "this package's" in footer.source.lower() and f"]({PROVENANCE_LINK})" in footer.source  # what is whose
    method = (NOTEBOOKS.parent / "docs" / "METHOD.md").read_text(encoding="utf-8")
    assert "## 10. Provenance: what the paper shows and what is inferred" in method  # the link's anchor


def test_prerequisites_name_notebooks_that_exist():
    names = {p.stem for p in SOLUTIONS}
    for path in SOLUTIONS:
        header = _header(nbformat.read(path, 4))
        prerequisites = header[header.index("**Prerequisites"):].split("**Time")[0]
        named = re.findall(r"\d\d_[a-z_]+", prerequisites)
        assert set(named) <= names and path.stem not in named, (path.name, named)
